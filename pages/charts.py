"""Plotly figures for the pages (built here so that pages stay thin and tests can check them).

Titles, axes, legends and table headers are in the interface language (``app_state._``); the user's own
column and segment names are shown as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

import app_state
from app_state import _, say
from segmentation import ROLES, QualityReport


def missing_chart(report: QualityReport) -> go.Figure:
    """Bar chart of missing and invalid shares per column."""
    frame = report.columns.melt(id_vars="column", value_vars=["missing_pct", "invalid_pct"],
                                var_name="issue", value_name="percent")
    missing, invalid = _("Missing"), _("Invalid")
    frame["issue"] = frame["issue"].map({"missing_pct": missing, "invalid_pct": invalid})
    fig = px.bar(frame, x="column", y="percent", color="issue", barmode="group",
                 labels={"percent": _("% of rows"), "column": "", "issue": ""},
                 color_discrete_map={missing: "#9aa5b1", invalid: "#d64545"})
    fig.update_layout(height=360, margin={"t": 30, "b": 10}, legend_title_text="")
    return fig


def correlation_chart(report: QualityReport) -> go.Figure | None:
    """Heat map of the correlations between numeric columns (None with fewer than two)."""
    corr = report.correlation
    if corr.shape[0] < 2:
        return None
    fig = px.imshow(corr.astype(float).round(2), text_auto=True, zmin=-1, zmax=1,
                    color_continuous_scale="RdBu_r", aspect="auto", labels={"color": _("correlation")})
    fig.update_layout(height=360, margin={"t": 30, "b": 10})
    return fig


def issues_frame(report: QualityReport) -> pd.DataFrame:
    """The report's issues as a table for display."""
    issue, rows = _("Issue"), _("Rows")
    return pd.DataFrame([{issue: issue_label(i.key, i.label), rows: i.count, "key": i.key} for i in report.issues],
                        columns=[issue, rows, "key"])


def issue_label(key: str, label: str) -> str:
    """An issue of the quality report in words of the interface language, from its key (``missing:Ville``)."""
    kind, _sep, column = key.partition(":")
    words = {"rejected": _("Rows that could not be read"), "exact_duplicates": _("Exact duplicate records"),
             "stale": _("Stale profiles (no recent activity)")}
    if kind in words:
        return words[kind]
    if kind == "missing":
        return _("Missing {column}", column=column)
    if kind == "invalid":
        return _("Invalid {column}", column=column)
    if kind == "outlier":
        return _("Outliers in {column}", column=column)
    if kind == "duplicate_key":
        return _("Same {column} on several records", column=column)
    return say(label)


def score_histogram(pairs: pd.DataFrame, upper: float, lower: float) -> go.Figure:
    """Histogram of candidate-pair scores with the two thresholds, binned here (40 bins of 0.025): the browser
    gets 80 bars, not every score of the sample."""
    sure, review = _("sure"), _("to review")
    edges = np.linspace(0.0, 1.0, 41)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for status, label, colour in (("sure", sure, "#2e7d32"), ("review", review, "#f0a202")):
        scores = pairs.loc[pairs["status"] == status, "score"].clip(0.0, 1.0)
        counts, _edges = np.histogram(scores, bins=edges)
        fig.add_bar(x=centres, y=counts, width=0.025, name=label, marker_color=colour,
                    hovertemplate="%{x:.3f}: %{y}<extra>" + label + "</extra>")
    fig.add_vline(x=upper, line_dash="dash", annotation_text=sure, line_color="#2e7d32")
    fig.add_vline(x=lower, line_dash="dot", annotation_text=review, line_color="#f0a202")
    fig.update_xaxes(title_text=_("Match score"), range=[0, 1])
    fig.update_yaxes(title_text=_("pairs"))
    fig.update_layout(height=300, margin={"t": 30, "b": 10}, bargap=0.05, barmode="stack")
    return fig


def column_quality_frame(report: QualityReport) -> pd.DataFrame:
    """Per-column figures of the report, with labels a marketer reads."""
    cols = report.columns
    return pd.DataFrame({_("Column"): cols["column"], _("Role"): cols["role"].map(ROLES).map(say),
                         _("Missing"): cols["missing"], _("Missing %"): cols["missing_pct"],
                         _("Invalid"): cols["invalid"], _("Invalid %"): cols["invalid_pct"],
                         _("Distinct values"): cols["distinct"]})


def elbow_chart(scores: pd.DataFrame, knee: int | None, recommended: int) -> go.Figure:
    """The elbow (inertia by k) with the knee and the recommended k marked, and the other scores beside it."""
    from plotly.subplots import make_subplots

    panels = [("inertia", _("Spread within segments (the elbow)")),
              ("silhouette", _("Silhouette (higher: better separated)")),
              ("calinski_harabasz", _("Calinski-Harabasz (higher: better)")),
              ("davies_bouldin", _("Davies-Bouldin (lower: better)")),
              ("smallest_share", _("Smallest segment (share of customers)")),
              ("stability", _("Stability on re-runs (adjusted Rand)"))]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for _, title in panels], horizontal_spacing=0.07,
                        vertical_spacing=0.16)
    for i, (col, _title) in enumerate(panels):
        row, c = divmod(i, 3)
        fig.add_trace(go.Scatter(x=scores["k"], y=scores[col], mode="lines+markers", name=col, showlegend=False,
                                 line={"color": "#3b6ea8"}), row=row + 1, col=c + 1)
        chosen = scores[scores["k"] == recommended]
        fig.add_trace(go.Scatter(x=chosen["k"], y=chosen[col], mode="markers", showlegend=i == 0,
                                 name=_("recommended number of segments: {k}", k=recommended),
                                 marker={"size": 13, "color": "#d64545", "symbol": "star"}), row=row + 1, col=c + 1)
    if knee is not None:
        fig.add_vline(x=knee, line_dash="dot", line_color="#888", row=1, col=1,
                      annotation_text=_("elbow at {k}", k=knee), annotation_position="top right")
    fig.update_yaxes(tickformat=".0%", row=2, col=2)
    fig.update_xaxes(dtick=1, title_text=_("segments"), row=2)
    fig.update_layout(height=520, margin={"t": 40, "b": 10}, legend={"orientation": "h", "y": -0.08})
    return fig


def feature_histograms(frame: pd.DataFrame) -> go.Figure:
    """One small histogram (numeric) or bar chart (categorical) per feature of a sample of customers."""
    from plotly.subplots import make_subplots

    cols = list(frame.columns)
    per_row = min(len(cols), 4) or 1
    rows = (len(cols) + per_row - 1) // per_row or 1
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=cols, vertical_spacing=0.25 / rows)
    for i, col in enumerate(cols):
        r, c = divmod(i, per_row)
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values):  # binned here: 40 bars to the browser, not the whole sample
            present = values.dropna().astype(float)
            counts, edges = np.histogram(present, bins=40) if len(present) else (np.zeros(0), np.zeros(1))
            trace = go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker_color="#3b6ea8",
                           showlegend=False)
        else:
            counts = values.fillna(_("(missing)")).value_counts().head(12)
            trace = go.Bar(x=counts.index.astype(str), y=counts.to_numpy(), marker_color="#7a9cc6", showlegend=False)
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_layout(height=220 * rows, margin={"t": 30, "b": 10})
    return fig


def sizes_chart(sizes: dict[str, int], names: dict[str, str] | None = None) -> go.Figure:
    """Customers per segment."""
    labels = [f"{k} · {names[k]}" if names and k in names else _("Segment {n}", n=k) for k in sizes]
    fig = px.bar(x=labels, y=list(sizes.values()), labels={"x": "", "y": _("customers")}, text_auto=True)
    fig.update_layout(height=300, margin={"t": 20, "b": 10})
    return fig


def index_heatmap(numeric: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Segments × features, coloured by index (segment mean ÷ overall mean × 100; 100 = like everyone)."""
    table = numeric.pivot(index="segment", columns="feature", values="index")
    table.index = [f"{s} · {names.get(s, '')}"[:60] for s in table.index]
    fig = px.imshow(table.round(0), text_auto=True, color_continuous_scale="RdBu", color_continuous_midpoint=100,
                    aspect="auto", labels={"color": _("index (100 = like everyone)"), "x": "", "y": ""})
    fig.update_layout(height=120 + 50 * len(table), margin={"t": 20, "b": 10})
    return fig


def snake_plot(standardised: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Standardised means of every segment across the features (0 = the whole base)."""
    fig = go.Figure()
    for segment, row in standardised.iterrows():
        fig.add_trace(go.Scatter(x=list(standardised.columns), y=row.to_numpy(), mode="lines+markers",
                                 name=f"{segment} · {names.get(segment, '')}"[:50]))
    fig.add_hline(y=0, line_dash="dot", line_color="#888")
    fig.update_layout(height=380, margin={"t": 20, "b": 10},
                      yaxis_title=_("gap from the whole base (standard deviations)"))
    return fig


def box_by_segment(frame: pd.DataFrame, feature: str, names: dict[int, str]) -> go.Figure:
    """Distribution of one feature in each segment (a sample of customers)."""
    labels = frame["segment"].map(lambda s: f"{s} · {names.get(s, '')}"[:40])
    fig = px.box(frame.assign(label=labels), x="label", y=feature, points=False, labels={"label": ""})
    fig.update_layout(height=380, margin={"t": 20, "b": 10})
    return fig


def segment_map(points: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Customers on the first two principal components of the run's features, coloured by segment."""
    label = points["segment"].map(lambda s: f"{s} · {names.get(s, '')}"[:40])
    fig = px.scatter(points.assign(segment_name=label), x="pc1", y="pc2", color="segment_name", opacity=0.5,
                     labels={"pc1": _("map axis 1"), "pc2": _("map axis 2"), "segment_name": _("segment")},
                     render_mode="webgl")
    fig.update_traces(marker={"size": 4})
    fig.update_layout(height=460, margin={"t": 20, "b": 10})
    return fig


def rfm_grid(cells: pd.DataFrame) -> go.Figure:
    """R × F heat map: customers per cell (colour) with their total value in the hover."""
    counts = cells.pivot(index="r", columns="f", values="customers").reindex(index=range(5, 0, -1),
                                                                             columns=range(1, 6)).fillna(0)
    value = cells.pivot(index="r", columns="f", values="value").reindex(index=range(5, 0, -1),
                                                                        columns=range(1, 6)).fillna(0)
    fig = go.Figure(go.Heatmap(z=counts.to_numpy(), x=[f"F{f}" for f in counts.columns],
                               y=[f"R{r}" for r in counts.index], text=counts.astype(int).to_numpy(),
                               texttemplate="%{text}", customdata=value.round(0).to_numpy(),
                               hovertemplate=_("{r} {f}: {n} customers, {v} value", r="%{y}", f="%{x}", n="%{z}",
                                               v="%{customdata:,.0f}") + "<extra></extra>",
                               colorscale="Blues"))
    fig.update_layout(height=380, margin={"t": 20, "b": 10}, xaxis_title=_("frequency score (5 = most often)"),
                      yaxis_title=_("recency score (5 = most recent)"))
    return fig


def lift_chart(lift: dict) -> go.Figure:
    """Share of positives per decile of score (1 = highest scores) against the base rate."""
    frame = pd.DataFrame(lift)
    fig = px.bar(frame, x="decile", y="lift", labels={"decile": _("tenth of customers by score (1 = most likely)"),
                                                       "lift": _("lift (× the average rate)")}, text_auto=".1f")
    fig.add_hline(y=1, line_dash="dot", line_color="#888")
    fig.update_layout(height=320, margin={"t": 20, "b": 10})
    return fig


def calibration_chart(calibration: dict) -> go.Figure:
    """Predicted probability against the observed rate (on the diagonal when calibrated)."""
    frame = pd.DataFrame(calibration)
    fig = px.line(frame, x="predicted", y="observed", markers=True,
                  labels={"predicted": _("predicted probability"), "observed": _("observed rate")})
    fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line={"dash": "dot", "color": "#888"})
    fig.update_layout(height=320, margin={"t": 20, "b": 10})
    return fig


def snapshot_sizes_chart(sizes: pd.DataFrame) -> go.Figure:
    """Customers per segment across snapshots (``segmentation.segment.snapshots.sizes``): which grew, which shrank."""
    taken = sizes["taken_at"].map(lambda t: app_state.datetime(t))
    frame = sizes.assign(label=taken + " · #" + sizes["snapshot"].astype(str))
    fig = px.line(frame, x="label", y="customers", color="name", markers=True,
                  labels={"label": _("snapshot"), "name": _("segment"), "customers": _("customers")})
    fig.update_layout(height=360, margin={"t": 20, "b": 10}, legend={"orientation": "h", "y": -0.25})
    return fig


def migration_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Customers by segment before (rows) and after (columns): the diagonal stayed, the rest moved."""
    table = matrix.copy()
    table.index = [str(i)[:50] for i in table.index]
    table.columns = [str(c)[:50] for c in table.columns]
    fig = px.imshow(table, text_auto=True, color_continuous_scale="Blues", aspect="auto",
                    labels={"x": _("after"), "y": _("before"), "color": _("customers")})
    fig.update_layout(height=160 + 45 * len(table), margin={"t": 20, "b": 10})
    return fig


def profile_heatmap(numeric: pd.DataFrame, names: dict[int, str], labels: dict[str, str]) -> go.Figure:
    """Segments × measures: the index in each cell (on medians for skewed measures), coloured by how much better
    for the business the segment is (green: more value or more recent activity; red: less, or long ago).

    ``numeric`` is a profile's table (``index``, ``index_median``, ``skewed``, ``effect``); ``labels`` the words
    ``index``, ``better`` and ``base`` in the reader's language.
    """
    shown = numeric["index_median"].where(numeric["skewed"].astype(bool), numeric["index"])
    recent = numeric["recency"].astype(bool) if "recency" in numeric else numeric["feature"].str.endswith(" (days ago)")
    better = numeric["effect"].where(~recent, -numeric["effect"])  # fewer days since: better
    frame = numeric.assign(shown=shown.round(0), better=better.clip(-2, 2))
    text = frame.pivot(index="segment", columns="feature", values="shown")
    colour = frame.pivot(index="segment", columns="feature", values="better").reindex_like(text)
    rows = [f"{s} · {names.get(s, '')}"[:60] for s in text.index]
    columns = [c.removesuffix(" (days ago)") for c in text.columns]
    fig = go.Figure(go.Heatmap(z=colour.to_numpy(), x=columns, y=rows, text=text.to_numpy(), texttemplate="%{text}",
                               colorscale="RdYlGn", zmid=0, zmin=-2, zmax=2,
                               colorbar={"title": {"text": labels.get("better", "better")}},
                               hovertemplate="%{y}<br>%{x}<br>" + labels.get("index", "index") + " %{text}"
                                             "<extra></extra>"))
    fig.update_layout(height=120 + 50 * len(rows), margin={"t": 20, "b": 10}, yaxis={"autorange": "reversed"})
    return fig
