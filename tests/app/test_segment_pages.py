"""The Segment page: features offered as the store changes, the elbow and the recommendation in words, the other
scores behind Details, a link to one run, French.

(The Profile page's tests are beside that page's own, in the Profile owner's file.)
"""

from __future__ import annotations

from datetime import date

from segmentation import FeatureSettings
from segmentation.ingest.repository import DatasetsRepository
from tests.app.conftest import app_store, run_app

FEATURES = FeatureSettings(numeric=("Valeur contrat", "Fréquence d'utilisation", "Tickets support"),
                           reference_date="2026-11-01")


def test_segment_page_offers_rfm_measures_computed_after_it_was_shown(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    ds_id = DatasetsRepository(s).dataset("sample customers").id
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    before = at.multiselect(key=f"seg_numeric_{ds_id}").options
    assert "Valeur contrat" in before and not [o for o in before if o.startswith("RFM ")]
    # Compute RFM on the Behaviour page, then come back: the measures are features now.
    at.switch_page("pages/behaviour.py").run()
    at.date_input(key="rfm_as_of").set_value(date(2026, 11, 1)).run()
    at.button(key="rfm_compute").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    after = at.multiselect(key=f"seg_numeric_{ds_id}").options
    assert [o for o in after if o not in before] == ["RFM recency (days)", "RFM frequency", "RFM monetary",
                                                      "RFM average order", "RFM tenure (days)", "R score",
                                                      "F score", "M score", "RFM orders (all time)"]
    assert "RFM group" in at.multiselect(key=f"seg_categorical_{ds_id}").options


def test_segment_page_leads_with_the_elbow_and_the_recommendation_in_words(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    ds = DatasetsRepository(s).dataset("sample customers")
    at.switch_page("pages/segment.py").run()
    at.multiselect(key=f"seg_numeric_{ds.id}").set_value(list(FEATURES.numeric)).run()
    at.slider(key="seg_k_range").set_value((2, 7)).run()
    at.button(key="scan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    info = at.info[0].value
    assert info.startswith("**Recommended: ") and " segments: " in info and info.endswith(".**")
    recommended = int(info.removeprefix("**Recommended: ").split(" ")[0])
    assert next(n for n in at.number_input if n.label == "Number of segments (k)").value == recommended
    # The other scores sit behind Details, each with a line on what it means for a marketer.
    details = next(e for e in at.expander if e.label == "Details: the other scores")
    lines = [m.value for m in details.markdown]
    assert [line.split(":")[0] for line in lines] == ["- Silhouette", "- Calinski-Harabasz", "- Davies-Bouldin",
                                                      "- Smallest segment", "- Stability"]
    assert at.caption[0].value == "Segmenting on: Valeur contrat, Fréquence d'utilisation, Tickets support"
    # Run it twice, then follow a link to the first run: ?run=NAME selects it; the page ends with the next step.
    for name in ("Q1", "Q2"):
        at.text_input(key="seg_run_name").set_value(name).run()
        at.button(key="run").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="seg_run_pick").value == "Q2"
    linked = run_app()
    linked.query_params["run"] = "Q1"
    linked.switch_page("pages/segment.py").run()
    assert not linked.exception, [e.value for e in linked.exception]
    assert linked.selectbox(key="seg_run_pick").value == "Q1"
    assert [e.proto.label for e in linked.get("page_link")][-1] == "Next: describe your segments →"


def test_segment_page_speaks_french(seeded_db, opened_stores):
    at = run_app()
    at.session_state["language"] = "fr"
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Segmenter les clients"
    assert [h.value for h in at.subheader][:2] == ["Critères", "Combien de segments ?"]
    assert at.button(key="scan").label == "Évaluer de 2 à 10 segments"
    at.button(key="scan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.info[0].value.startswith("**Recommandation : ") and " segments : " in at.info[0].value
    assert "Aucune segmentation pour l’instant." in [c.value for c in at.caption]
