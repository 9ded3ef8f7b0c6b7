"""The automate stage: the pipeline file and unattended refreshes.

``config`` reads and writes the pipeline file from the engine's own settings dataclasses (pure); ``steps``
says what each step does and what its inputs' state is (settings, files, dataset write versions); ``runner``
runs them, each in a transaction of its own; ``repository`` is the stage's only SQL executor (the refresh
log); ``stage`` is ``workspace.refresh``.
"""
