"""The activate stage: audiences (segments plus conditions, consent respected) and the files they leave in.

``audiences`` holds the definitions and builds their SQL; ``export`` writes formula-safe CSV and XLSX (pure);
``repository`` is the stage's only SQL executor (saved audiences, suppression lists, the export log);
``stage`` is ``handle.audiences``.
"""
