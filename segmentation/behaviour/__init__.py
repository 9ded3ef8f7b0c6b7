"""The behaviour stage: what customers did (RFM from an orders dataset) and what they may do (propensity scores).

``rfm`` builds the RFM statement (SQL text: orders linked to customers, recency, frequency, monetary, quintile
scores, named groups); ``propensity`` fits and evaluates the models (scikit-learn, pure); ``repository`` is the
stage's only SQL executor (``rfm_runs``, ``rfm_<id>``, ``score_models``, ``scores_<id>``); ``stage`` is
``handle.behaviour``.
"""
