"""The ingest stage: a CRM export in, a dataset out (raw rows, normalised rows, rejected rows, quality report).

- ``readers``, ``roles``, ``normalize``: pure (bytes to an Arrow table, role guesses, normalisation plans).
- ``importer``: puts them together; ``quality``: the data-quality report (SQL text); ``statements``: the
  SQL text of imports.
- ``repository``: the stage's only SQL executor, owner of ``uploads``, ``datasets``, ``import_batches`` and
  each dataset's ``raw_``/``clean_``/``rejects_`` tables.
- ``stage``: the facade's ``workspace.ingest`` and ``handle.ingest``.
"""
