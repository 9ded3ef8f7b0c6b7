"""Refresh: save the pipeline as a config file, run it, see the last refreshes and how segments moved."""

from pathlib import Path

import streamlit as st

import app_state
from app_state import _, n_, number, say
from pages import charts
from pages.text import plain
from segmentation import SegmentStudioError, to_csv_bytes

ws = app_state.workspace()
refresh = ws.refresh
refresh.mark_interrupted()  # a refresh a stopped process left "running" (the log is not versioned: no cache moves)
app_state.show_flash()
st.title(_("Refresh"))
st.write(_("Redo everything automatically when a new export arrives: save the steps you set up here as a file, "
           "then let your computer run it on a schedule. New exports are imported, sure duplicates merged, "
           "customers scored and given a segment, audience files written. Pairs to review always wait for you."))

customers = ws.names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.page_link("pages/import_data.py", label=_("Go to Import"), icon=":material/upload_file:")
    st.stop()
ds = app_state.dataset(app_state.pick_dataset(customers, key="refresh_dataset"))
default_file = str(ws.path.resolve().parent / "pipeline.toml")
STATUS = {"ok": _("ok"), "done": _("done"), "unchanged": _("unchanged"), "failed": _("failed"),
          "running": _("running"), "interrupted": _("interrupted"), "skipped": _("skipped")}
KIND_WORDS = {"customers": _("customers"), "transactions": _("orders (transactions)")}


def changes_words(summary: dict) -> str:
    """A refresh's summary in a few words of the interface language."""
    parts = [_("{dataset}: {added} new, {updated} updated", dataset=dataset, added=rows["rows_added"],
               updated=rows["rows_updated"]) for dataset, rows in summary.get("rows_imported", {}).items()]
    if summary.get("merges"):
        parts.append(_("{records} records merged into {customers} customers", records=summary["records_merged"],
                       customers=summary["merges"]))
    if any(s["step"].startswith("segments ") and s["status"] == "done" for s in summary.get("steps", [])):
        parts.append(_("segments assigned"))
    written = [a["name"] for a in summary.get("audiences", []) if a.get("written")]
    if written:
        parts.append(n_("{count} audience file written", "{count} audience files written", len(written)))
    return "; ".join(parts) or _("nothing changed")


def save_section() -> None:
    st.header(_("Save the pipeline"))
    try:
        current = app_state.cached(refresh, "config_from_store", ds.name)
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
        return
    config_file = st.text_input(_("Config file"), default_file, key="refresh_config_file",
                                help=_("Paths below are relative to this file's folder."))
    st.markdown("**" + _("Where each refresh finds the new exports") + "**")
    files = {s.dataset: st.text_input(plain(f"{s.dataset} ({KIND_WORDS.get(s.settings.kind, s.settings.kind)})"),
                                      f"exports/{Path(s.file).name}", key=f"refresh_src_{i}_{refresh.slug(s.dataset)}")
             for i, s in enumerate(current.sources)}
    outputs = {}
    if current.audiences:
        st.markdown(_("**Audience files each refresh writes** (.csv or .xlsx)"))
        outputs = {a.name: st.text_input(plain(a.name), a.out, key=f"refresh_out_{i}_{refresh.slug(a.name)}",
                                         help=_("A name ending in .xlsx writes an Excel file."))
                   for i, a in enumerate(current.audiences)}
    else:
        st.caption(_("No saved audience yet: save one on *Audiences* to have it written on every refresh."))
    c1, c2, c3 = st.columns(3)
    mode = c1.radio(_("Segments"), ["assign", "refit"], horizontal=True, key="refresh_mode",
                    format_func={"assign": _("give each customer a segment of the current run"),
                                 "refit": _("build the segments again")}.get,
                    disabled=current.segments is None)
    k = c2.number_input(_("Number of segments when built again"), 2, 30, None, key="refresh_k",
                        placeholder=_("as in the run"), disabled=mode != "refit")
    auto_merge = c3.checkbox(_("Merge sure duplicates unattended"), True, key="refresh_auto_merge",
                             disabled=current.dedupe is None)
    try:
        config = refresh.with_choices(current, files=files, outputs=outputs, segment_mode=mode,
                                      auto_merge=auto_merge, segment_k=int(k) if k else None)
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
        return
    text = refresh.to_toml(config, Path(config_file).name)
    with st.expander(_("Details: the config file"), expanded=False, icon=":material/description:"):
        st.caption(_("What a scheduled refresh reads; its comments stay in English, like the command itself."))
        st.code(text, language="toml")
    b1, b2 = st.columns(2)
    if b1.button(_("Save config file"), type="primary", key="refresh_save", icon=":material/save:"):
        try:
            path = refresh.save_config(config, config_file)
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        except OSError as exc:
            st.error(plain(_("Cannot write {file}: {reason}. Choose another folder.", file=repr(config_file),
                             reason=exc.strerror)))
        else:
            st.success(_("Saved **{path}**. Schedule it with the command python -m segmentation refresh --config "
                         "{path} (see the README).", path=plain(str(path))))
    b2.download_button(_("Download config file"), text.encode("utf-8"), Path(config_file).name, "application/toml",
                       key="refresh_download", icon=":material/download:")


def run_section() -> None:
    st.header(_("Run now"))
    path = st.text_input(_("Config file to run"), default_file, key="refresh_run_file")
    if st.button(_("Run refresh"), key="refresh_run", icon=":material/play_arrow:"):
        try:
            result = refresh.run_file(path, progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.success(plain(_("Refresh {id} done: {changes}.", id=str(result.id),
                               changes=changes_words(result.summary))))


def history_section() -> None:
    st.header(_("Last refreshes"))
    log = refresh.history()  # not cached: the refresh log does not move the write version
    if log.empty:
        st.caption(_("No refresh yet."))
        return
    shown = log[["id", "started_at", "seconds", "status", "changed", "failed_step", "error", "config_file"]].assign(
        status=log["status"].map(lambda s: STATUS.get(s, s)), changed=log["changed"].map(say))
    st.dataframe(shown.rename(columns={
        "id": _("Refresh"), "started_at": _("Started"), "seconds": _("Seconds"), "status": _("Status"),
        "changed": _("What changed"), "failed_step": _("Failed step"), "error": _("Error"),
        "config_file": _("Config file")}), hide_index=True, key="refresh_log",
        column_config=app_state.datetime_columns(_("Started")))
    chosen = st.selectbox(_("Steps of refresh"), log["id"], key="refresh_steps_of")
    steps = refresh.steps_of(int(chosen))
    if "status" in steps:
        steps = steps.assign(status=steps["status"].map(lambda s: STATUS.get(s, s)))
    st.dataframe(steps.rename(columns={"step": _("Step"), "status": _("Status"), "seconds": _("Seconds"),
                                       "detail": _("Detail"), "error": _("Error")}),
                 hide_index=True, key="refresh_steps")


def review_section() -> None:
    waiting = app_state.cached(ds.dedupe, "waiting_for_review")
    st.metric(_("Pairs waiting for review"), number(waiting))
    if waiting:
        st.page_link("pages/deduplicate.py", label=_("Review them on Deduplicate"), icon=":material/join_inner:")


def history_of_segments() -> None:
    st.header(_("How segments moved"))
    st.caption(_("A snapshot records who is in which segment at one moment; comparing two shows which customers "
                 "moved from one segment to another."))
    segments = ds.segments
    table = app_state.cached(segments, "snapshots")
    if table.empty:
        st.caption(_("No snapshot yet: each refresh takes one when segment membership changed."))
    else:
        st.plotly_chart(charts.snapshot_sizes_chart(app_state.cached(segments, "snapshot_sizes")),
                        key="snapshot_sizes")
    if st.button(_("Take a snapshot now"), key="snapshot_take", icon=":material/photo_camera:"):
        try:
            taken = segments.take_snapshot()
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.session_state.flash = (_("Snapshot {id} taken.", id=str(taken)) if taken else
                                      _("Nobody moved since the last snapshot: none taken."))
            st.rerun()
    if len(table) < 2:
        return
    label = {int(r.id): f"#{r.id} · {app_state.datetime(r.taken_at)} · {r.run}" for r in table.itertuples()}
    a, b = st.columns(2)
    ids = list(label)
    before = a.selectbox(_("From snapshot"), ids, index=len(ids) - 2, format_func=label.get, key="snap_before")
    after = b.selectbox(_("To snapshot"), ids, index=len(ids) - 1, format_func=label.get, key="snap_after")
    matrix = app_state.cached(segments, "migration", before, after)
    st.plotly_chart(charts.migration_heatmap(matrix), key="snapshot_migration")
    c, d = st.columns(2)
    anyone = "(any)"
    source = c.selectbox(_("Who moved from"), [anyone, *matrix.index], key="snap_from",
                         format_func=lambda v: _("(any segment)") if v == anyone else str(v))
    target = d.selectbox(_("to"), [anyone, *matrix.columns], key="snap_to",
                         format_func=lambda v: _("(any segment)") if v == anyone else str(v))
    moved = app_state.cached(segments, "movers", before, after, None if source == anyone else source,
                             None if target == anyone else target)
    st.caption(n_("{count} customer moved.", "{count} customers moved.", len(moved)))
    named = moved.rename(columns={"customer_id": _("customer_id"), "before": _("before"), "after": _("after")})
    st.download_button(_("Download them (CSV)"), lambda: to_csv_bytes(named), _("moved customers") + ".csv",
                       "text/csv", key="snap_movers", disabled=moved.empty, icon=":material/download:")


save_section()
run_section()
history_section()
review_section()
history_of_segments()
st.divider()
st.page_link("pages/import_data.py", label=_("Back to the start: import a new export"),
             icon=":material/upload_file:")
