"""The data-quality report: exact counts on a small file with known problems."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from segmentation.core.errors import ColumnError, NotFoundError
from segmentation.ingest import quality
from segmentation.ingest.importer import import_file
from segmentation.ingest.quality import QualitySettings, issue_rows, quality_report

CSV = (
    b"id,email,phone,last activity,amount,visits\n"
    b"1,a@x.fr,0123456789,2026-10-01,100,1\n"
    b"2,A@X.FR ,01 23 45 67 89,2024-01-01,110,2\n"
    b"3,bad-email,12345,2026-09-01,90,3\n"
    b"4,,0611223344,,100000,4\n"
    b"5,c@x.fr,,2026-11-01,95,5\n"
    b"5,c@x.fr,,2026-11-01,95,5\n"
)
SETTINGS = QualitySettings(stale_months=12, today=dt.date(2026, 11, 23))


@pytest.fixture
def report(store):
    import_file(store, CSV, "q.csv")
    return quality_report(store, "q", SETTINGS)


def test_missing_and_invalid_counts(report):
    cols = report.columns.set_index("column")
    assert cols.loc["email", "missing"] == 1
    assert cols.loc["email", "invalid"] == 1
    assert cols.loc["phone", "missing"] == 2
    assert cols.loc["phone", "invalid"] == 1
    assert cols.loc["last activity", "missing"] == 1


def test_duplicates_stale_and_outliers(report):
    assert report.exact_duplicates == 2
    assert report.duplicate_keys == {"email": 4, "phone": 2}
    assert report.stale_profiles == 1
    outliers = report.outliers.set_index("column")["count"].to_dict()
    assert outliers["amount"] == 1


def test_correlation_of_numeric_columns(report):
    assert report.correlation.loc["amount", "visits"] == pytest.approx(
        report.correlation.loc["visits", "amount"])
    assert report.correlation.loc["amount", "amount"] == pytest.approx(1.0)


def test_issue_rows_name_the_rows(store, report):
    assert issue_rows(store, "invalid:email", "q", SETTINGS)["row"].tolist() == [3]
    assert issue_rows(store, "stale:last activity", "q", SETTINGS)["row"].tolist() == [2]
    assert issue_rows(store, "exact_duplicates", "q", SETTINGS)["row"].tolist() == [5, 6]
    assert issue_rows(store, "duplicate_key:phone", "q", SETTINGS)["row"].tolist() == [1, 2]
    assert issue_rows(store, "outlier:amount", "q", SETTINGS)["row"].tolist() == [4]
    with pytest.raises(ColumnError, match="No column 'nope' in dataset 'q'"):
        issue_rows(store, "missing:nope", "q", SETTINGS)
    with pytest.raises(NotFoundError, match="Unknown quality issue 'odd:email'"):
        issue_rows(store, "odd:email", "q", SETTINGS)


def test_json_figures(report):
    figures = report.to_dict()
    assert figures["invalid_emails"] == 1 and figures["invalid_phones"] == 1
    assert figures["missing"]["email"] == 1
    assert figures["stale_profiles"] == 1
    assert {i["key"] for i in figures["issues"]} >= {"invalid:email", "exact_duplicates", "stale:last activity"}


# -- the kept quality report (issue 21) -------------------------------------------------------------------------
def same_report(a, b) -> None:
    assert a.to_json() == b.to_json()
    pd.testing.assert_frame_equal(a.columns, b.columns)
    pd.testing.assert_frame_equal(a.outliers, b.outliers)
    pd.testing.assert_frame_equal(a.correlation, b.correlation)
    assert a.issues == b.issues and a.to_dict() == b.to_dict()


def test_a_kept_quality_report_equals_the_computed_one(ws, monkeypatch):
    handle = ws.ingest.import_bytes(CSV, "q.csv")
    computed = handle.ingest.quality(SETTINGS)
    same_report(computed, quality.report(handle.ingest.repository, handle.info, SETTINGS))  # the plain computation
    monkeypatch.setattr(quality, "report", lambda *a, **k: pytest.fail("the report was computed again"))
    kept = ws.dataset("q").ingest.quality(SETTINGS)
    same_report(kept, computed)
    assert kept.exact_duplicates == 2 and kept.duplicate_keys == {"email": 4, "phone": 2}
    assert kept.stale_profiles == 1


def test_the_kept_quality_report_follows_the_settings_and_the_date(ws):
    handle = ws.ingest.import_bytes(CSV, "q.csv")
    assert handle.ingest.quality(SETTINGS).stale_profiles == 1
    assert handle.ingest.quality(QualitySettings(stale_months=1, today=SETTINGS.today)).stale_profiles == 3
    assert handle.ingest.quality(QualitySettings(stale_months=12, today=dt.date(2027, 11, 15))).stale_profiles == 5
    assert handle.ingest.quality(SETTINGS).stale_profiles == 1
    def outliers(settings):
        return handle.ingest.quality(settings).outliers.set_index("column")["count"].to_dict()
    assert outliers(SETTINGS) == {"amount": 1, "visits": 0}
    assert outliers(QualitySettings(outlier_iqr=100.0, today=SETTINGS.today)) == {"amount": 0, "visits": 0}


def test_an_import_a_role_change_and_a_forget_recompute_the_kept_quality_report(ws):
    handle = ws.ingest.import_bytes(CSV, "q.csv")
    assert handle.ingest.quality(SETTINGS).columns.set_index("column").loc["email", "missing"] == 1
    later = b"id,email,phone,last activity,amount,visits\n7,,0699887766,2026-11-02,80,2\n"
    handle = handle.ingest.append(later, "later.csv")
    report = handle.ingest.quality(SETTINGS)
    assert report.rows == 7 and report.columns.set_index("column").loc["email", "missing"] == 2
    handle = handle.ingest.set_roles({"phone": "text"})
    report = handle.ingest.quality(SETTINGS)
    assert report.duplicate_keys == {"email": 4}
    assert "invalid:phone" not in {i.key for i in report.issues}
    ws.ingest.forget(email="bad-email")
    report = ws.dataset("q").ingest.quality(SETTINGS)
    assert report.rows == 6 and "invalid:email" not in {i.key for i in report.issues}
