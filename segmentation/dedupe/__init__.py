"""The dedupe stage: find duplicate records, review pairs, merge them into customers, undo.

``comparisons`` and ``matching`` are pure (frames in, scored pairs out); ``sql`` builds the statements over the
stage's tables; ``repository`` is the stage's only SQL executor (match runs, pairs, decisions, merge groups,
survivorship rules); ``review`` is the workflow; ``stage`` is ``handle.dedupe``.
"""
