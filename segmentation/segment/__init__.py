"""The segment stage: features, choosing k, K-means runs, profiles, segment names and snapshots.

``features``, ``clustering`` and ``profiling`` are pure (frames and arrays in and out); ``runs`` fits, saves,
assigns and profiles runs; ``snapshots`` keeps segment membership over time; ``repository`` is the stage's
only SQL executor (runs, members, names, scans, snapshots); ``stage`` is ``handle.segments``.
"""
