"""Plotly figures for the pages (built here so that pages stay thin and tests can check them)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from .quality import QualityReport
from .roles import ROLES


def missing_chart(report: QualityReport) -> go.Figure:
    """Bar chart of missing and invalid shares per column."""
    frame = report.columns.melt(id_vars="column", value_vars=["missing_pct", "invalid_pct"],
                                var_name="issue", value_name="percent")
    frame["issue"] = frame["issue"].map({"missing_pct": "Missing", "invalid_pct": "Invalid"})
    fig = px.bar(frame, x="column", y="percent", color="issue", barmode="group",
                 labels={"percent": "% of rows", "column": ""},
                 color_discrete_map={"Missing": "#9aa5b1", "Invalid": "#d64545"})
    fig.update_layout(height=360, margin={"t": 30, "b": 10}, legend_title_text="")
    return fig


def correlation_chart(report: QualityReport) -> go.Figure | None:
    """Heat map of the correlations between numeric columns (None with fewer than two)."""
    corr = report.correlation
    if corr.shape[0] < 2:
        return None
    fig = px.imshow(corr.astype(float).round(2), text_auto=True, zmin=-1, zmax=1,
                    color_continuous_scale="RdBu_r", aspect="auto")
    fig.update_layout(height=360, margin={"t": 30, "b": 10})
    return fig


def issues_frame(report: QualityReport) -> pd.DataFrame:
    """The report's issues as a table for display."""
    return pd.DataFrame([{"Issue": i.label, "Rows": i.count, "key": i.key} for i in report.issues],
                        columns=["Issue", "Rows", "key"])


def score_histogram(pairs: pd.DataFrame, upper: float, lower: float) -> go.Figure:
    """Histogram of candidate-pair scores with the two thresholds."""
    fig = px.histogram(pairs, x="score", nbins=40, color="status",
                       color_discrete_map={"sure": "#2e7d32", "review": "#f0a202"},
                       labels={"score": "Match score", "status": ""})
    fig.add_vline(x=upper, line_dash="dash", annotation_text="sure", line_color="#2e7d32")
    fig.add_vline(x=lower, line_dash="dot", annotation_text="review", line_color="#f0a202")
    fig.update_layout(height=300, margin={"t": 30, "b": 10}, bargap=0.05)
    return fig


def column_quality_frame(report: QualityReport) -> pd.DataFrame:
    """Per-column figures of the report, with labels a marketer reads."""
    cols = report.columns
    return pd.DataFrame({"Column": cols["column"], "Role": cols["role"].map(ROLES),
                         "Missing": cols["missing"], "Missing %": cols["missing_pct"],
                         "Invalid": cols["invalid"], "Invalid %": cols["invalid_pct"],
                         "Distinct values": cols["distinct"]})
