"""Plotly figures for the pages (built here so that pages stay thin and tests can check them)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from segmentation import ROLES, QualityReport


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


def elbow_chart(scores: pd.DataFrame, knee: int | None, recommended: int) -> go.Figure:
    """The elbow (inertia by k) with the knee and the recommended k marked, and the other scores beside it."""
    from plotly.subplots import make_subplots

    panels = [("inertia", "Inertia (the elbow)"), ("silhouette", "Silhouette (higher: better separated)"),
              ("calinski_harabasz", "Calinski-Harabasz (higher: better)"),
              ("davies_bouldin", "Davies-Bouldin (lower: better)"),
              ("smallest_share", "Smallest segment (share of customers)"),
              ("stability", "Stability on re-runs (adjusted Rand)")]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for _, title in panels], horizontal_spacing=0.07,
                        vertical_spacing=0.16)
    for i, (col, _title) in enumerate(panels):
        row, c = divmod(i, 3)
        fig.add_trace(go.Scatter(x=scores["k"], y=scores[col], mode="lines+markers", name=col, showlegend=False,
                                 line={"color": "#3b6ea8"}), row=row + 1, col=c + 1)
        chosen = scores[scores["k"] == recommended]
        fig.add_trace(go.Scatter(x=chosen["k"], y=chosen[col], mode="markers", showlegend=i == 0,
                                 name=f"recommended k = {recommended}",
                                 marker={"size": 13, "color": "#d64545", "symbol": "star"}), row=row + 1, col=c + 1)
    if knee is not None:
        fig.add_vline(x=knee, line_dash="dot", line_color="#888", row=1, col=1,
                      annotation_text=f"knee {knee}", annotation_position="top right")
    fig.update_yaxes(tickformat=".0%", row=2, col=2)
    fig.update_xaxes(dtick=1)
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
        if pd.api.types.is_numeric_dtype(values):
            trace = go.Histogram(x=values.dropna(), nbinsx=40, marker_color="#3b6ea8", showlegend=False)
        else:
            counts = values.fillna("(missing)").value_counts().head(12)
            trace = go.Bar(x=counts.index.astype(str), y=counts.to_numpy(), marker_color="#7a9cc6", showlegend=False)
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_layout(height=220 * rows, margin={"t": 30, "b": 10})
    return fig


def sizes_chart(sizes: dict[str, int], names: dict[str, str] | None = None) -> go.Figure:
    """Customers per segment."""
    labels = [f"{k} · {names[k]}" if names and k in names else f"Segment {k}" for k in sizes]
    fig = px.bar(x=labels, y=list(sizes.values()), labels={"x": "", "y": "customers"}, text_auto=True)
    fig.update_layout(height=300, margin={"t": 20, "b": 10})
    return fig


def index_heatmap(numeric: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Segments × features, coloured by index (segment mean ÷ overall mean × 100; 100 = like everyone)."""
    table = numeric.pivot(index="segment", columns="feature", values="index")
    table.index = [f"{s} · {names.get(s, '')}"[:60] for s in table.index]
    fig = px.imshow(table.round(0), text_auto=True, color_continuous_scale="RdBu", color_continuous_midpoint=100,
                    aspect="auto", labels={"color": "index"})
    fig.update_layout(height=120 + 50 * len(table), margin={"t": 20, "b": 10})
    return fig


def snake_plot(standardised: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Standardised means of every segment across the features (0 = the whole base)."""
    fig = go.Figure()
    for segment, row in standardised.iterrows():
        fig.add_trace(go.Scatter(x=list(standardised.columns), y=row.to_numpy(), mode="lines+markers",
                                 name=f"{segment} · {names.get(segment, '')}"[:50]))
    fig.add_hline(y=0, line_dash="dot", line_color="#888")
    fig.update_layout(height=380, margin={"t": 20, "b": 10}, yaxis_title="standard deviations from the base")
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
                     labels={"pc1": "component 1", "pc2": "component 2", "segment_name": "segment"},
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
                               hovertemplate="%{y} %{x}: %{z} customers, %{customdata:,.0f} value<extra></extra>",
                               colorscale="Blues"))
    fig.update_layout(height=380, margin={"t": 20, "b": 10}, xaxis_title="frequency score",
                      yaxis_title="recency score")
    return fig


def lift_chart(lift: dict) -> go.Figure:
    """Share of positives per decile of score (1 = highest scores) against the base rate."""
    frame = pd.DataFrame(lift)
    fig = px.bar(frame, x="decile", y="lift", labels={"decile": "decile of score (1 = most likely)",
                                                       "lift": "lift (× base rate)"}, text_auto=".1f")
    fig.add_hline(y=1, line_dash="dot", line_color="#888")
    fig.update_layout(height=320, margin={"t": 20, "b": 10})
    return fig


def calibration_chart(calibration: dict) -> go.Figure:
    """Predicted probability against the observed rate (on the diagonal when calibrated)."""
    frame = pd.DataFrame(calibration)
    fig = px.line(frame, x="predicted", y="observed", markers=True,
                  labels={"predicted": "predicted probability", "observed": "observed rate"})
    fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line={"dash": "dot", "color": "#888"})
    fig.update_layout(height=320, margin={"t": 20, "b": 10})
    return fig


def snapshot_sizes_chart(sizes: pd.DataFrame) -> go.Figure:
    """Customers per segment across snapshots (``segmentation.segment.snapshots.sizes``): which grew, which shrank."""
    frame = sizes.assign(label=sizes["taken_at"].dt.strftime("%Y-%m-%d %H:%M") + " · #" + sizes["snapshot"].astype(str))
    fig = px.line(frame, x="label", y="customers", color="name", markers=True,
                  labels={"label": "snapshot", "name": "segment"})
    fig.update_layout(height=360, margin={"t": 20, "b": 10}, legend={"orientation": "h", "y": -0.25})
    return fig


def migration_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Customers by segment before (rows) and after (columns): the diagonal stayed, the rest moved."""
    table = matrix.copy()
    table.index = [str(i)[:50] for i in table.index]
    table.columns = [str(c)[:50] for c in table.columns]
    fig = px.imshow(table, text_auto=True, color_continuous_scale="Blues", aspect="auto",
                    labels={"x": matrix.columns.name or "after", "y": matrix.index.name or "before",
                            "color": "customers"})
    fig.update_layout(height=160 + 45 * len(table), margin={"t": 20, "b": 10})
    return fig
