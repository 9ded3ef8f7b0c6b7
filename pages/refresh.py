"""Refresh: save the pipeline as a config file, run it, see the last refreshes and how segments moved."""

from pathlib import Path

import streamlit as st

import app_state
from pages import charts
from pages.text import plain
from segmentation import SegmentStudioError, to_csv_bytes

ws = app_state.workspace()
refresh = ws.refresh
refresh.mark_interrupted()  # a refresh a stopped process left "running" (the log is not versioned: no cache moves)
app_state.show_flash()
st.title("Refresh")
st.caption("Run the pipeline you built here unattended, from a scheduler: new exports are imported, sure "
           "duplicates merged, customers scored and assigned a segment, audience files written. Pairs to review "
           "always wait for you.")

customers = ws.names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
ds = app_state.dataset(app_state.pick_dataset(customers, key="refresh_dataset"))
default_file = str(ws.path.resolve().parent / "pipeline.toml")


def save_section() -> None:
    st.header("Save the pipeline")
    try:
        current = app_state.cached(refresh, "config_from_store", ds.name)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
        return
    config_file = st.text_input("Config file", default_file, key="refresh_config_file",
                                help="Paths below are relative to this file's folder.")
    st.markdown("**Where each refresh finds the new exports**")
    files = {s.dataset: st.text_input(plain(f"{s.dataset} ({s.settings.kind})"), f"exports/{Path(s.file).name}",
                                      key=f"refresh_src_{i}_{refresh.slug(s.dataset)}")
             for i, s in enumerate(current.sources)}
    outputs = {}
    if current.audiences:
        st.markdown("**Audience files each refresh writes** (.csv or .xlsx)")
        outputs = {a.name: st.text_input(plain(a.name), a.out, key=f"refresh_out_{i}_{refresh.slug(a.name)}",
                                         help="A name ending in .xlsx writes an Excel file.")
                   for i, a in enumerate(current.audiences)}
    else:
        st.caption("No saved audience yet: save one on *Audiences* to have it written on every refresh.")
    c1, c2, c3 = st.columns(3)
    mode = c1.radio("Segments", ["assign", "refit"], horizontal=True, key="refresh_mode",
                    format_func={"assign": "assign with the current run", "refit": "re-fit the run"}.get,
                    disabled=current.segments is None)
    k = c2.number_input("Segments of a re-fit", 2, 30, None, key="refresh_k", placeholder="the run's",
                        disabled=mode != "refit")
    auto_merge = c3.checkbox("Merge sure duplicates unattended", True, key="refresh_auto_merge",
                             disabled=current.dedupe is None)
    try:
        config = refresh.with_choices(current, files=files, outputs=outputs, segment_mode=mode,
                                      auto_merge=auto_merge, segment_k=int(k) if k else None)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
        return
    text = refresh.to_toml(config, Path(config_file).name)
    with st.expander("The config file", expanded=False):
        st.code(text, language="toml")
    b1, b2 = st.columns(2)
    if b1.button("Save config file", type="primary", key="refresh_save"):
        try:
            path = refresh.save_config(config, config_file)
        except SegmentStudioError as exc:
            st.error(plain(str(exc)))
        except OSError as exc:
            st.error(plain(f"Cannot write {config_file!r}: {exc.strerror}. Choose another folder."))
        else:
            st.success(f"Saved **{plain(str(path))}**. Schedule it with the command "
                       f"python -m segmentation refresh --config {plain(str(path))} (see the README).")
    b2.download_button("Download config file", text.encode("utf-8"), Path(config_file).name, "application/toml",
                       key="refresh_download")


def run_section() -> None:
    st.header("Run now")
    path = st.text_input("Config file to run", default_file, key="refresh_run_file")
    if st.button("Run refresh", key="refresh_run"):
        try:
            result = refresh.run_file(path, progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(plain(str(exc)))
        else:
            st.success(plain(f"Refresh {result.id} done: {refresh.changes(result.summary)}."))


def history_section() -> None:
    st.header("Last refreshes")
    log = refresh.history()  # not cached: the refresh log does not move the write version
    if log.empty:
        st.caption("No refresh yet.")
        return
    st.dataframe(log[["id", "started_at", "seconds", "status", "changed", "failed_step", "error", "config_file"]],
                 hide_index=True, key="refresh_log")
    chosen = st.selectbox("Steps of refresh", log["id"], key="refresh_steps_of")
    st.dataframe(refresh.steps_of(int(chosen)), hide_index=True, key="refresh_steps")


def review_section() -> None:
    waiting = app_state.cached(ds.dedupe, "waiting_for_review")
    st.metric("Pairs waiting for review", f"{waiting:,}")
    if waiting:
        st.page_link("pages/deduplicate.py", label="Review them on Deduplicate", icon="🧬")


def history_of_segments() -> None:
    st.header("How segments moved")
    segments = ds.segments
    table = app_state.cached(segments, "snapshots")
    if table.empty:
        st.caption("No snapshot yet: each refresh takes one when segment membership changed.")
    else:
        st.plotly_chart(charts.snapshot_sizes_chart(app_state.cached(segments, "snapshot_sizes")),
                        key="snapshot_sizes")
    if st.button("Take a snapshot now", key="snapshot_take"):
        try:
            taken = segments.take_snapshot()
        except SegmentStudioError as exc:
            st.error(plain(str(exc)))
        else:
            st.session_state.flash = (f"Snapshot {taken} taken." if taken else
                                      "Nobody moved since the last snapshot: none taken.")
            st.rerun()
    if len(table) < 2:
        return
    label = {int(r.id): f"#{r.id} · {r.taken_at:%Y-%m-%d %H:%M} · {r.run}" for r in table.itertuples()}
    a, b = st.columns(2)
    ids = list(label)
    before = a.selectbox("From snapshot", ids, index=len(ids) - 2, format_func=label.get, key="snap_before")
    after = b.selectbox("To snapshot", ids, index=len(ids) - 1, format_func=label.get, key="snap_after")
    matrix = app_state.cached(segments, "migration", before, after)
    st.plotly_chart(charts.migration_heatmap(matrix), key="snapshot_migration")
    c, d = st.columns(2)
    source = c.selectbox("Who moved from", ["(any)", *matrix.index], key="snap_from")
    target = d.selectbox("to", ["(any)", *matrix.columns], key="snap_to")
    moved = app_state.cached(segments, "movers", before, after, None if source == "(any)" else source,
                             None if target == "(any)" else target)
    st.caption(f"{len(moved):,} customers moved.")
    st.download_button("Download them (CSV)", lambda: to_csv_bytes(moved), "moved customers.csv", "text/csv",
                       key="snap_movers", disabled=moved.empty)


save_section()
run_section()
history_section()
review_section()
history_of_segments()
