"""Audiences: segments plus conditions, consent respected, a live count, a safe list to download.

Deep links: ``?audience=NAME`` opens a saved audience in the builder; ``?run=NAME&segment=N`` (optionally
``&dataset=NAME``) starts an audience with that segment of that run chosen (the Profile page sends it).
"""

from dataclasses import replace

import streamlit as st

import app_state
from app_state import _, number, say
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import (
    NO_CONSENT_CHOICES,
    OPERATORS,
    PRESETS,
    AudienceSpec,
    Condition,
    SegmentStudioError,
    to_csv_bytes,
)

st.title(_("Audiences"))
st.write(_("Build the list of customers to contact for a campaign: pick segments, add conditions if you need "
           "them, then download a file ready for your e-mail or advertising tool. Customers who did not consent "
           "are left out."))

customers = app_state.workspace().names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.page_link("pages/import_data.py", label=_("Go to Import"), icon=":material/upload_file:")
    st.stop()
link = {k: st.query_params.get(k) for k in ("audience", "run", "segment", "dataset")}
if link["dataset"] in customers and st.session_state.get("audience_link") != link:
    st.session_state.dataset = link["dataset"]
ds = app_state.dataset(app_state.pick_dataset(customers, key="audience_dataset"))
audiences = ds.audiences
app_state.prepare_customers(ds)  # after a merge: the golden records are built once, and the wait shows
app_state.show_flash()
language = app_state.language()


def reopen(name: str, spec_json: str) -> None:
    """Load a saved audience into the builder's widgets (a callback, before they are drawn)."""
    spec = AudienceSpec.from_json(spec_json)
    state = st.session_state
    if spec.run:
        state[f"audience_run_{ds.id}"] = spec.run
    state.audience_segments = list(spec.segments)
    state.audience_conditions = [{"dataset": ds.id, "group": g + 1, "column": c.column, "op": c.op, "value": c.value}
                                 for g, group in enumerate(spec.groups) for c in group]
    state.audience_channel = spec.channel
    state.audience_include_no_consent = spec.include_no_consent
    state.audience_no_consent_column = spec.no_consent_column
    state.audience_holdout = round(spec.holdout * 100)
    state.audience_seed = spec.seed
    state.audience_name = name
    if spec.columns:
        state[f"audience_columns_{ds.id}_{spec.channel}"] = list(spec.columns)
    st.query_params.from_dict({"audience": name})  # the address now opens this audience (to share or bookmark)
    state.audience_link = {"audience": name, "run": None, "segment": None, "dataset": None}


def follow_link(run_names: list[str]) -> None:
    """Apply the page's deep link once (a reload with the same link does not undo later choices)."""
    if not any(link.values()) or st.session_state.get("audience_link") == link:
        return
    st.session_state.audience_link = link
    if link["audience"]:
        saved = app_state.cached(audiences, "saved_with_sizes")
        found = saved.loc[saved["name"] == link["audience"], "spec"]
        if found.empty:
            st.warning(_("No saved audience is called {name} in this dataset.", name=plain(link["audience"])))
        else:
            reopen(link["audience"], found.iloc[0])
        return
    if link["run"]:
        if link["run"] not in run_names:
            st.warning(_("This dataset has no segment run called {name}.", name=plain(link["run"])))
            return
        st.session_state[f"audience_run_{ds.id}"] = link["run"]
        segment = str(link["segment"] or "").strip()
        st.session_state.audience_segments = [int(segment)] if segment.lstrip("-").isdigit() else []


runs = app_state.cached(ds.segments, "runs")
run_names = list(runs["name"])
current = list(runs.loc[runs["current"], "name"])
follow_link(run_names)


def rule_words(rule: Condition) -> str:
    """The rule in the interface language (the column and the values as the user's data has them)."""
    shown = "" if rule.op in ("empty", "not_empty") else (
        ", ".join(map(str, rule.value)) if isinstance(rule.value, list | tuple) else str(rule.value))
    return f"{rule.column} {say(OPERATORS.get(rule.op, rule.op))} {shown}".strip()


def add_condition(with_picker: bool) -> None:
    """The Add button's callback (before the builder is drawn again, so the rule shows in that same run): the
    rule from the widgets' values, with the values picked from the list (``with_picker``: the list was shown)."""
    state = st.session_state
    op, value, picked = state.cond_op, state.get("cond_value") or "", state.get("cond_pick") or []
    typed = [v.strip() for v in value.split(",") if v.strip()] if op in ("in", "not_in") else value.strip()
    if with_picker and picked:
        typed = [*(typed if isinstance(typed, list) else []), *picked] if op in ("in", "not_in") else picked[0]
    state.audience_conditions.append({"dataset": ds.id, "group": int(state.cond_group), "column": state.cond_column,
                                      "op": op, "value": typed})


def remove_condition(i: int) -> None:
    """A Remove button's callback."""
    st.session_state.audience_conditions.pop(i)


def _fresh():
    """The page's dataset and its audiences, its description read again: a rerun of the builder alone comes
    after writes of other tabs too (roles, columns), and a count made with yesterday's roles would be wrong."""
    handle = ds.reload()
    return handle, handle.audiences


@st.fragment
def builder() -> None:
    """Who, conditions, contact and consent, columns and holdout, the figures, the preview and the download: a
    change here reruns this part only (not the saved audiences and their sizes, nor the export log)."""
    ds, audiences = _fresh()
    app_state.prepare_customers(ds)  # merged in another tab since the page was drawn
    run = None
    st.subheader(_("Who"))
    if run_names:  # one key per dataset: a choice made on another dataset's runs does not carry over
        run = st.selectbox(_("Segment run"), run_names, index=run_names.index(current[0]) if current else 0,
                           key=f"audience_run_{ds.id}")
    else:
        st.caption(_("No segment run on this dataset yet: the audience takes from every customer."))
    chosen: list[int] = []
    if run is not None:
        names = app_state.cached(ds.segments, "names", run)
        if any(k not in names for k in st.session_state.get("audience_segments", [])):
            st.session_state.audience_segments = [k for k in st.session_state.audience_segments if k in names]
        chosen = st.multiselect(_("Segments (empty: all)"), list(names), format_func=lambda k: f"{k} · {say(names[k])}",
                                key="audience_segments")

    st.subheader(_("Conditions"))
    st.caption(_("Conditions of one group must all hold; a customer matching any group is in."))
    a1, a2, a3, a4 = st.columns([3, 2, 3, 1])
    kinds = app_state.cached(audiences, "attribute_kinds")
    column = a1.selectbox(_("Column"), [*ds.columns, *kinds], key="cond_column")
    op = a2.selectbox(_("Operator"), list(OPERATORS), format_func=lambda o: say(OPERATORS[o]), key="cond_op")
    a3.text_input(_("Value (one of: separate with commas; dates: YYYY-MM-DD)"), key="cond_value",
                  disabled=op in ("empty", "not_empty"))
    a4.number_input(_("Group"), 1, 9, 1, key="cond_group")
    with_picker = column in app_state.cached(audiences, "category_columns") and op in ("eq", "ne", "in", "not_in")
    if with_picker:
        p1, p2 = st.columns([2, 5])
        search = p1.text_input(_("Search values"), key="cond_search", placeholder=_("ile de france"))
        found = app_state.cached(audiences, "category_values", column, search.strip(), 50)
        counts = dict(zip(found["value"], found["customers"], strict=True))
        label = _("Pick values (their customers; case, accents and spaces do not matter)")
        p2.multiselect(label, list(counts), format_func=lambda v: f"{v} ({number(counts[v])})", key="cond_pick")
    st.button(_("Add condition"), key="add_condition", icon=":material/add:", on_click=add_condition,
              args=(with_picker,))

    by_group: dict[int, list[Condition]] = {}
    for i, cond in enumerate(st.session_state.audience_conditions):
        if cond.get("dataset", ds.id) != ds.id:  # conditions are kept per dataset
            continue
        rule = Condition(cond["column"], cond["op"], cond["value"])
        left, right = st.columns([8, 1])
        if audiences.applies(rule):
            left.write(_("Group {group}: **{rule}**", group=cond["group"], rule=plain(rule_words(rule))))
            by_group.setdefault(cond["group"], []).append(rule)
        else:
            left.write(_("Group {group}: ~~{rule}~~ (not applicable: this dataset has no column {column}; left out)",
                         group=cond["group"], rule=plain(rule_words(rule)), column=plain(cond["column"])))
        right.button(_("Remove"), key=f"remove_condition_{i}", icon=":material/delete:",
                     on_click=remove_condition, args=(i,))

    st.subheader(_("Contact and consent"))
    c1, c2 = st.columns(2)
    channel = c1.radio(_("Channel"), ["email", "phone", None], horizontal=True, key="audience_channel", format_func={
        "email": _("E-mail"), "phone": _("Phone"), None: _("None (no contact point needed)")}.get)
    include = c2.checkbox(_("Include customers without consent or who opted out (recorded in the export log)"),
                          key="audience_include_no_consent")
    upload = c2.file_uploader(_("Suppression list (CSV of e-mails or record ids)"), type=["csv", "txt", "xlsx"],
                              key="suppression_file")
    if upload is not None and st.session_state.audience_suppression.get("file") != upload.file_id:
        try:
            list_id = audiences.save_suppression_file(upload.name, upload.getvalue())
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.session_state.audience_suppression = {"file": upload.file_id, "id": list_id}
    suppression = st.session_state.audience_suppression.get("id") if upload is not None else None

    no_consent_column = None
    if channel is not None and not {"consent", "opt_out"} & set(ds.roles.values()):
        c1.warning(_("This dataset has no consent or opt-out column: nothing says who may be contacted. Choose what "
                     "that means before downloading; the choice is written in the export log."))
        words = {None: _("Not chosen yet"), "treat-as-consenting": _("Treat everyone as consenting"),
                 "exclude": _("Exclude everyone")}
        no_consent_column = c1.radio(_("Without a consent column"), [None, *NO_CONSENT_CHOICES], format_func=words.get,
                                     key="audience_no_consent_column")
    base = AudienceSpec(dataset=ds.name, run=run, segments=tuple(chosen),
                        groups=tuple(tuple(g) for _g, g in sorted(by_group.items())), channel=channel,
                        include_no_consent=include, suppression=suppression, no_consent_column=no_consent_column)
    st.subheader(_("Columns and holdout"))
    h1, h2, h3 = st.columns([4, 2, 1])
    available = [*ds.columns, *app_state.cached(audiences, "contact_columns"), "segment_name", *kinds]
    own = set(ds.columns)
    columns = h1.multiselect(_("Columns in the file"), available, default=audiences.default_columns(base),
                             format_func=lambda c: c if c in own else app_state.say(c),
                             key=f"audience_columns_{ds.id}_{channel}")
    personal = audiences.personal_columns(base, columns)
    h1.caption(_("Personal data leaving the tool: {columns}",
                 columns=", ".join(f"**{plain(c)}**" for c in personal) if personal else _("none")))
    holdout = h2.slider(_("Holdout (control group)"), 0, 50, 0, format="%d%%", key="audience_holdout",
                        help=_("Customers kept aside and not contacted, picked at random: comparing them with the "
                               "others afterwards shows what the campaign really brought."))
    seed = h3.number_input(_("Draw"), 0, 10_000, 0, key="audience_seed",
                           help=_("The same number draws the same holdout again."))
    spec = AudienceSpec(**{**base.__dict__, "columns": tuple(columns), "holdout": holdout / 100, "seed": int(seed)})

    try:
        with st.spinner(_("Counting…")):  # the golden records were built above (with a progress bar)
            # Counted without the holdout and the columns, the preview and its rows' places in the draw without
            # the share: moving the holdout slider or picking a column reads (almost) nothing again.
            counting = audiences.counting(spec)
            figures = audiences.with_holdout(app_state.cached(audiences, "count", counting), spec)
            preview = app_state.cached(audiences, "select", replace(spec, holdout=0.0, seed=0), limit=20)
            if spec.holdout > 0:
                places = app_state.cached(audiences, "draw_places", replace(counting, seed=spec.seed), 20)
                preview = audiences.held_out(preview, places, spec, figures)
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
        return
    m = st.columns(5)
    m[0].metric(_("In the segments"), number(figures.in_segments))
    m[1].metric(_("Matching the conditions"), number(figures.matching))
    m[2].metric(_("Without consent (excluded)") if not include else _("Without consent (included)"),
                number(figures.excluded_no_consent) if not include else "-")
    m[3].metric(_("In the audience"), number(figures.final))
    m[4].metric(_("Holdout"), number(figures.holdout))
    rules = {rule.label: rule_words(rule) for group_rules in by_group.values() for rule in group_rules}
    excluded = {**{_("fails: {rule}", rule=rules.get(k, k)): v for k, v in figures.excluded_by_rule.items()},
                _("no e-mail") if channel == "email" else _("no phone"): figures.excluded_no_contact,
                _("suppression list"): figures.excluded_suppressed}
    if channel is None:
        excluded.pop(_("no phone"))
    st.caption(" · ".join(_("{label}: {count}", label=plain(label), count=n) for label, n in excluded.items()))
    st.dataframe(audiences.localise(preview, language), hide_index=True, key="audience_preview")

    st.subheader(_("Download"))
    GENERAL = {"excel-fr": ("csv-excel", _("CSV for Excel in French (; and BOM)")),
               "csv": ("csv", _("CSV (UTF-8, comma)")), "xlsx": ("xlsx", _("Excel (.xlsx)")),
               "parquet": ("parquet", _("Parquet"))}
    d1, d2 = st.columns(2)
    destination = d1.selectbox(_("Destination"), [*GENERAL, *PRESETS], key="audience_preset",
                               format_func=lambda k: GENERAL[k][1] if k in GENERAL else PRESETS[k].title)
    preset = PRESETS.get(destination)
    hashed = d1.toggle(_("Hash identifiers (SHA-256)"), key="audience_hash", disabled=not (preset and preset.hashable),
                       help=_("E-mails, phones and names normalised as the destination's guide says, then SHA-256."))
    if preset is not None:
        d1.caption(_("Follows [{title}]({url}). {limits} Columns: {columns}.", title=plain(preset.title),
                     url=preset.docs_url, limits=plain(say(preset.limits_message)),
                     columns=plain(", ".join(preset.headers(hashed and preset.hashable)))))
        warning = preset.size_message(figures.contacts)
        if warning:
            d1.warning(plain(say(warning)))
    name = d2.text_input(_("Audience name"), key="audience_name", placeholder=_("e.g. IDF SMEs, engaged"))
    file_format = GENERAL[destination][0] if preset is None else preset.file_format
    extension = preset.extension if preset else {"xlsx": "xlsx", "parquet": "parquet"}.get(file_format, "csv")
    stem = f"{name or _('audience')}{f' ({preset.name})' if preset else ''}"
    consent_missing = channel is not None and not figures.consent_column and not include and no_consent_column is None
    if consent_missing:
        d1.info(_("Choose what the missing consent column means (above) to download."))
    options = {"preset": preset.name if preset else None, "hashed": bool(hashed and preset and preset.hashable),
               "language": language}
    d1.download_button(_("Download {count} customers to contact", count=figures.contacts), key="audience_download",
                       data=lambda: audiences.render(spec, file_format, audience=name or None, **options),
                       file_name=f"{stem}.{extension}", type="primary", disabled=consent_missing,
                       icon=":material/download:")
    if figures.holdout:
        d1.download_button(_("Download the holdout ({count}, not to contact)", count=figures.holdout),
                           key="audience_download_holdout",
                           data=lambda: audiences.render(spec, file_format, audience=name or None, part="holdout",
                                                         **options),
                           file_name=f"{stem} ({_('holdout')}).{extension}", disabled=consent_missing,
                           icon=":material/download:")
    if d2.button(_("Save audience"), key="save_audience", disabled=not name.strip(), icon=":material/save:"):
        try:
            audiences.save(name, spec)
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.session_state.flash = _("Audience **{name}** saved.", name=plain(name.strip()))
            st.rerun(scope="app")  # the whole page: the saved audiences below list it


builder()

saved = app_state.cached(audiences, "saved_with_sizes")
if not saved.empty:
    st.subheader(_("Saved audiences"))
    shown = saved[["name", "saved_at", "customers", "status"]].assign(
        status=saved["status"].map(lambda s: _("ready") if s == "ok" else say(s)))
    st.dataframe(shown.rename(columns={"name": _("Audience"), "saved_at": _("Saved"), "customers": _("Customers"),
                                       "status": _("Status")}), hide_index=True, key="saved_audiences",
                 column_config=app_state.datetime_columns(_("Saved")))
    s1, s2, s3, s4 = st.columns([3, 1, 3, 1])
    chosen_saved = s1.selectbox(_("Saved audience"), list(saved["name"]), key="saved_pick")
    spec_json = saved.loc[saved["name"] == chosen_saved, "spec"].iloc[0]
    s2.button(_("Open in the builder"), key="saved_open", on_click=reopen, args=(chosen_saved, spec_json))
    copy = _("{name} (copy)", name=chosen_saved)
    copy_name = s3.text_input(_("Copy as"), key="saved_copy_name", placeholder=copy)
    if s4.button(_("Duplicate"), key="saved_duplicate"):
        try:
            new_name = audiences.duplicate(chosen_saved, copy_name.strip() or copy)
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.session_state.flash = _("Audience **{name}** saved.", name=plain(new_name))
            st.rerun()
    confirm_button(s2, _("Delete"), "saved_delete", question=_("Delete the saved audience **{name}**? Its exports "
                                                               "stay in the log.", name=plain(chosen_saved)),
                   yes=_("Yes, delete it"), action=audiences.delete, args=(chosen_saved,),
                   flash=_("Audience **{name}** deleted.", name=plain(chosen_saved)))
    picked = st.multiselect(_("Overlap between"), saved["name"], default=list(saved["name"])[:3], key="overlap_pick")
    if len(picked) >= 2:
        overlap = app_state.cached(audiences, "overlap", tuple(picked))
        st.caption(_("Customers in both audiences of each row and column (the diagonal: each audience's size)."))
        st.dataframe(overlap, key="overlap")
        st.download_button(_("Download the overlap (CSV)"), key="overlap_download", file_name="overlap.csv",
                           data=lambda: to_csv_bytes(overlap.rename_axis(_("audience")).reset_index()),
                           icon=":material/download:")
with st.expander(_("Export log"), icon=":material/history:"):
    st.caption(_("Every file downloaded or written: when, which audience, how many customers, which columns, and "
                 "what was decided about consent."))
    log = app_state.cached(audiences, "export_log")
    headers = {"exported_at": _("Exported"), "audience": _("Audience"), "rows": _("Customers"),
               "columns": _("Columns"), "file_name": _("File"), "include_no_consent": _("Without consent included"),
               "consent": _("Consent"), "preset": _("Destination")}
    shown_log = log.assign(consent=log["consent"].map(say)).rename(columns=headers) if "consent" in log else log
    st.dataframe(audiences.localise(shown_log, language), hide_index=True,
                 column_config=app_state.datetime_columns(_("Exported")))
    st.download_button(_("Download the export log (CSV)"), key="export_log_download",
                       file_name=_("export log") + ".csv",
                       data=lambda: to_csv_bytes(audiences.localise(shown_log, language)),
                       icon=":material/download:")

st.divider()
st.page_link("pages/refresh.py", label=_("Next: refresh it all automatically with each new export"),
             icon=":material/arrow_forward:")
