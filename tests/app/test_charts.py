"""Charts bin their data before it goes to the browser, and keep every value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pages import charts


def test_the_score_histogram_sends_40_bins_per_status_and_counts_every_pair():
    scores = np.r_[np.round(np.linspace(0, 1, 101), 2), [1.0]]             # 0.00 … 1.00, and 1.00 again
    pairs = pd.DataFrame({"score": scores, "status": ["review"] * 60 + ["sure"] * 42})
    fig = charts.score_histogram(pairs, 0.9, 0.3)
    sure, review = fig.data
    assert [len(sure.x), len(review.x)] == [40, 40]
    assert [int(sure.y.sum()), int(review.y.sum())] == [42, 60]
    assert int(sure.y[-1]) == 4                                            # 0.98, 0.99, 1.00 twice: the right edge
    assert int(review.y[0]) == 3 and int(review.y[-1]) == 0                # 0.00, 0.01, 0.02


def test_feature_histograms_bin_numbers_and_count_categories():
    frame = pd.DataFrame({"value": [1.0, 2.0, 3.0, np.nan] * 25, "plan": ["a", "b", "a", None] * 25})
    numeric, categorical = charts.feature_histograms(frame).data
    assert len(numeric.x) == 40 and int(numeric.y.sum()) == 75            # the missing values are left out
    assert dict(zip(categorical.x, categorical.y.tolist(), strict=True)) == {"a": 50, "b": 25, "(missing)": 25}
