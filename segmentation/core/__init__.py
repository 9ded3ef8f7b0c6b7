"""The core every stage stands on: the store, its schema, the error tree, the one vocabulary.

``store`` holds the DuckDB connection, transactions, atomic blocks and the write version (no domain SQL);
``schema`` the migrations and table names; ``errors`` the exceptions under ``SegmentStudioError``;
``vocabulary`` the roles, kinds and yes/no words; ``stage`` the base of the stage classes.
"""
