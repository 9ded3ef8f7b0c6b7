"""Profile: one card per segment (who they are, how many, what sets them apart, its rule), then an audience."""

import streamlit as st

import app_state
from app_state import _, say
from pages import charts
from pages.text import plain
from segmentation import ProfileSettings, SegmentStudioError, i18n, to_csv_bytes, to_xlsx_bytes

st.title(_("Segment profiles"))
st.write(_("Who is in each segment, what sets it apart from your other customers and how many of them you can "
           "contact. Give each segment a name your team will recognise, then build an audience from it."))

customers = app_state.workspace().names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.page_link("pages/import_data.py", label=_("Go to Import"), icon=":material/upload_file:")
    st.stop()
dataset_name = app_state.pick_dataset(customers, key="profile_dataset")
handle = app_state.dataset(dataset_name)
segments = handle.segments
saved = app_state.cached(segments, "runs")
if saved.empty:
    st.info(_("Run a segmentation first (page Segment)."))
    st.page_link("pages/segment.py", label=_("Go to Segment"), icon=":material/donut_small:")
    st.stop()
app_state.prepare_customers(handle)  # after a merge: the golden records are built once, and the wait shows
run_names = list(saved["name"])
linked = st.query_params.get("run")  # ?run=NAME opens that run
if linked in run_names and st.session_state.get("profile_link") != linked:
    st.session_state.profile_link = st.session_state.profile_run = linked
if st.session_state.profile_run not in run_names:
    current = saved.loc[saved["current"], "name"]
    st.session_state.profile_run = current.iloc[0] if len(current) else run_names[0]


def _follow_choice() -> None:
    st.query_params["run"] = st.session_state.profile_link = st.session_state.profile_run


run_name = st.selectbox(_("Segmentation"), run_names, key="profile_run", on_change=_follow_choice)
app_state.show_flash()
language = app_state.language()

min_share = st.sidebar.slider(_("Flag segments smaller than"), 0.01, 0.2, 0.05, 0.01, format="%.2f",
                              key="profile_min_share")
profile = app_state.cached(segments, "profile", run_name, ProfileSettings(min_share=min_share))
sizes = profile.sizes.merge(profile.reach, on="segment").set_index("segment")

def shown_names() -> dict[int, str]:
    """Every segment's name in the reader's language (a renamed segment keeps the name it was given)."""
    names = app_state.cached(segments, "names", run_name)
    labels = {s: profile.label(s, names) for s in sizes.index}
    return {s: label if isinstance(label, str) else say(label) for s, label in labels.items()}  # a given name as is


def _rename(segment: int) -> None:
    """The rename button's callback: it runs before the fragment is drawn again, so the new name shows at once."""
    new = st.session_state[f"rename_name_{segment}"].strip()
    try:
        segments.rename_segment(run_name, segment, new)
    except SegmentStudioError as exc:
        st.session_state[f"rename_error_{segment}"] = say(exc)
    else:
        st.session_state[f"rename_name_{segment}"] = ""
        st.toast(_("The segment is now called {name}: audiences and exports use this name.", name=plain(new)),
                 icon=":material/check:")


@st.fragment
def name_box(segment: int) -> None:
    """The segment's name and its rename box: a rename reruns only this, never the profile."""
    name = shown_names()[segment]
    st.subheader(plain(name))
    with st.popover(_("Rename"), icon=":material/edit:"):
        new = st.text_input(_("New name"), key=f"rename_name_{segment}", placeholder=name)
        st.button(_("Save the name"), key=f"rename_button_{segment}", disabled=not new.strip(), on_click=_rename,
                  args=(segment,))
        error = st.session_state.pop(f"rename_error_{segment}", None)
        if error:
            st.error(plain(error))


names = shown_names()
for hint in profile.hints:  # a hint names its segment as the cards do
    segment = hint.values.get("segment")
    shown = i18n.Message(hint.text, {**hint.values, "name": names[segment]}) if segment in names else hint
    st.warning(plain(say(shown)))

for segment, row in sizes.iterrows():
    with st.container(border=True, key=f"card_{segment}"):
        name_box(int(segment))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(_("Customers"), i18n.format_number(int(row["size"]), language))
        c2.metric(_("Share of customers"), i18n.format_percent(row["share"], language))
        if "value_share" in sizes:
            c3.metric(_("Share of value"), i18n.format_percent(row["value_share"], language))
        c4.metric(_("Reachable by e-mail"), i18n.format_number(int(row.get("email", 0)), language),
                  help=_("Customers with an e-mail address who consented and did not opt out; by phone: {phone}.",
                         phone=int(row.get("phone", 0))))
        st.markdown("\n".join(f"- {plain(say(trait))}" for trait in profile.traits.get(segment, [])))
        rule = profile.rules.set_index("segment").loc[segment]
        st.caption(_("Rule: {rule} (it picks {coverage} of the segment; {precision} of those it picks are in it).",
                     rule=plain(say(profile.rule_words.get(segment, rule["rule"]))),
                     coverage=i18n.format_percent(rule["coverage"], language, 0),
                     precision=i18n.format_percent(rule["precision"], language, 0)))
        if st.button(_("Build an audience"), key=f"audience_{segment}", icon=":material/campaign:"):
            st.switch_page("pages/audiences.py", query_params={"run": run_name, "segment": str(segment),
                                                               "dataset": dataset_name})

names = shown_names()  # a rename in a card's fragment shows here after the next full run
details = st.expander(_("Details: charts and the full profile"), icon=":material/analytics:", key="profile_details",
                      on_change="rerun")
with details:
    if details.open:  # the charts are drawn (and their sample read) only once the reader opens the details
        st.caption(_("Index: the segment's median ÷ the median of all customers × 100 for skewed amounts and counts "
                     "(the mean otherwise); 100 is like everyone, 200 twice as much. Colours: green is better for "
                     "the business (recent activity, high value). The rules come from a decision tree that agrees "
                     "with the segments for {agreement} of customers: read them as a summary, not as the definition.",
                     agreement=i18n.format_percent(profile.agreement, language, 0)))
        labels = {"index": _("index"), "better": _("better")}
        st.plotly_chart(charts.profile_heatmap(profile.numeric, names, labels), key="index_heatmap")
        st.plotly_chart(charts.snake_plot(profile.standardised, names), key="snake")
        if not profile.categorical.empty:
            mix = profile.categorical.assign(segment=lambda f: f["segment"].map(names))
            feature = st.selectbox(_("Mix of"), list(mix["feature"].unique()), key="profile_mix")
            table = mix[mix["feature"] == feature].pivot(index="category", columns="segment", values="share")
            table[_("all customers")] = mix[mix["feature"] == feature].groupby("category")["overall_share"].first()
            st.dataframe(table, key="mix_table", column_config={c: st.column_config.NumberColumn(format="percent")
                                                                 for c in table.columns})
        try:  # the charts need the run's model; one saved by an earlier version (a pickle) is refused, not loaded
            sample = app_state.cached(segments, "sample", run_name)
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            run = app_state.cached(segments, "get_run", run_name)
            left, right = st.columns(2)
            measures = list(run.settings.numeric)
            if measures:
                box = left.selectbox(_("Distribution of"), measures, key="profile_box")
                left.plotly_chart(charts.box_by_segment(sample, box, names), key="box")
            right.plotly_chart(charts.segment_map(sample, names), key="pca_map")
table = segments.profile_table(profile=profile)  # from the profile shown, names included
table["name"] = table["segment"].map(names)
d1, d2 = st.columns(2)
d1.download_button(_("Download the profile (CSV)"), to_csv_bytes(table), f"{run_name} profile.csv", "text/csv",
                   key="profile_csv", icon=":material/download:")
d2.download_button(_("Download the profile (Excel)"), to_xlsx_bytes(table, "Profile"), f"{run_name} profile.xlsx",
                   key="profile_xlsx", icon=":material/download:")

st.page_link("pages/audiences.py", label=_("Next: build an audience"), icon=":material/arrow_forward:")
