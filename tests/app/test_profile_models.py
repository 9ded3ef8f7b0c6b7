"""The Profile page with a run whose stored model is a pickle (a crafted store, or an earlier version's run)."""

from __future__ import annotations

import pickle

from segmentation.segment import runs as segments
from tests.app.conftest import app_store, run_app
from tests.segment.test_runs import OLD_FORMAT, _plant, _Planted


def test_profile_page_refuses_a_pickled_model_without_running_it(seeded_db, opened_stores, tmp_path):
    at = run_app()
    s = app_store(opened_stores)
    run = segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3,
                                name="Old")
    marker = tmp_path / "pwned"
    _plant(s, run, pickle.dumps(_Planted(marker)))
    at.switch_page("pages/profile.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # The profile itself comes from the saved memberships: the cards are shown.
    assert len(at.subheader) == 3 and not at.error
    # The charts need the model: opening the details refuses it, without running it.
    at.session_state["profile_details"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not marker.exists()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and OLD_FORMAT.replace(",", "") in errors[0].replace("\\", "").replace(",", "")
    assert len(at.subheader) == 3
