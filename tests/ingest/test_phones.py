"""Phone numbers: the SQL fast path run in DuckDB, the mapper on small frames, and whole imports."""

from __future__ import annotations

import duckdb
import pandas as pd
import phonenumbers
import pytest

from segmentation import ImportSettings, open_workspace
from segmentation.ingest import phones as P
from segmentation.ingest.plan import NormalizeOptions


def run(expr: str, values: list[str | None], countries: list[str | None] | None = None) -> list:
    """``expr`` over ``values`` (``{v}``) and their rows' countries (``{c}``), in order."""
    countries = countries if countries is not None else [None] * len(values)
    sql = expr.replace("{v}", "x").replace("{c}", "c")
    rows = duckdb.connect().execute(
        f"SELECT {sql} FROM (SELECT unnest(?::VARCHAR[]) AS x, unnest(?::VARCHAR[]) AS c, "
        "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [values, countries, values]).fetchall()
    return [r[0] for r in rows]


def mapped(values: list[str], countries: list[str | None] | None = None, region: str = "FR") -> list:
    frame = pd.DataFrame({"value": values})
    if countries is not None:
        frame["context"] = countries
    return P.map_phones(frame, region, ("NA", "N/A")).tolist()


OVERSEAS = {
    "0590 11 11 11": "+590590111111",    # Guadeloupe fixed
    "0690 12 34 56": "+590690123456",    # Guadeloupe / Saint-Martin / Saint-Barthélemy mobile
    "0691 22 34 56": "+590691223456",
    "0596 30 12 34": "+596596301234",    # Martinique
    "0696 12 34 56": "+596696123456",
    "0697 12 34 56": "+596697123456",
    "0594 11 11 11": "+594594111111",    # Guyane
    "0694 12 34 56": "+594694123456",
    "0262 12 34 56": "+262262123456",    # La Réunion
    "0263 11 11 11": "+262263111111",
    "0692 12 34 56": "+262692123456",
    "0693 00 12 34": "+262693001234",
    "0269 60 12 34": "+262269601234",    # Mayotte
    "0639 01 23 45": "+262639012345",
    "+33 6 90 12 34 56": "+590690123456",  # an overseas number written with +33
    "0033 596 30 12 34": "+596596301234",
    "+590 690 12 34 56": "+590690123456",
}


@pytest.mark.parametrize("raw", list(OVERSEAS))
def test_overseas_numbers_get_their_own_code_on_the_fast_path_or_from_the_mapper(raw):
    assert mapped([raw]) == [OVERSEAS[raw]]
    national = not raw.startswith("+590")  # French-plan numbers are the fast path's; the others left to the mapper
    assert run(P.phone_sql("FR"), [raw]) == [OVERSEAS[raw] if national else None]
    assert mapped([raw], ["France"]) == [OVERSEAS[raw]]


def test_overseas_number_in_an_overseas_country_row():
    assert mapped(["0690 12 34 56", "0690 12 34 56", "0696 12 34 56"], ["Guadeloupe", "Martinique", "MTQ"]) == [
        "+590690123456", "+590690123456", "+596696123456"]


def test_unassigned_overseas_blocks_are_invalid_not_plus_33():
    values = ["0596 11 11 11", "0691 11 11 11", "0269 11 11 11", "0709 55 55 55"]
    assert phonenumbers.is_valid_number(phonenumbers.parse("0596 11 11 11", "FR"))  # what phonenumbers alone says
    assert mapped(values) == [None, None, None, None]
    assert run(P.phone_sql("FR"), values) == [None, None, None, None]


def test_invalid_french_national_numbers_are_null():
    values = ["07 01 23 45 67", "06 12 34 56", "01 23 45 67 89 0", "00 12 34 56 78", "12345", "n/a"]
    assert mapped(values) == [None, None, None, None, None, None]
    assert run(P.phone_sql("FR"), values) == [None, None, None, None, None, None]


FRENCH = ["01 23 45 67 89", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78",
          "+33612345678", "+33 0 7 81 23 45 67", "09 51 23 45 67", "02 64 12 34 56", "05 91 12 34 56",
          "01 23 45 67 89 x12", "01 23 45 67 89 poste 12", "0123456789 ext. 7", "06 12 34 56 78 #3"]
FRENCH_E164 = ["+33123456789", "+33612345678", "+33612345678", "+33612345678", "+33612345678",
               "+33612345678", "+33781234567", "+33951234567", "+33264123456", "+33591123456",
               "+33123456789", "+33123456789", "+33123456789", "+33612345678"]


def test_fast_path_reads_french_numbers_and_their_extensions_like_the_mapper():
    assert run(P.phone_sql("FR"), FRENCH) == FRENCH_E164
    assert mapped(FRENCH) == FRENCH_E164


def test_fast_path_agrees_with_the_mapper_on_every_block():
    numbers = [f"0{block}{suffix}" for block in range(1000, 10000) for suffix in ("00000", "45678")]
    fast = run(P.phone_sql("FR"), numbers)
    wrong = [(n, f) for n, f in zip(numbers, fast, strict=True) if f is not None and f != P.french_e164(n[1:])]
    assert wrong == []
    # What the fast path writes alone: every valid number of the plan (the overseas and 08 blocks included).
    assert sum(f is not None for f in fast) == sum(P.french_e164(n[1:]) is not None for n in numbers) == 16790


def test_fast_path_leaves_non_french_numbers_to_the_mapper():
    values = ["+1 650 253 0000", "+44 20 7946 0958", "08 00 12 34 56", "0590 11 11 11"]
    assert run(P.phone_sql("FR"), values) == [None, None, "+33800123456", "+590590111111"]
    assert mapped(values) == ["+16502530000", "+442079460958", "+33800123456", "+590590111111"]


def test_fast_path_reads_national_numbers_only_in_french_rows():
    values = ["06 12 34 56 78", "06 12 34 56 78", "06 12 34 56 78", "06 12 34 56 78", "06 12 34 56 78",
              "+33 6 12 34 56 78"]
    countries = ["France", " fr ", "FRA", "", None, "Belgique"]
    assert run(P.phone_sql("FR", country=True), values, countries) == [
        "+33612345678", "+33612345678", "+33612345678", "+33612345678", "+33612345678", "+33612345678"]
    assert run(P.phone_sql("US", country=True), values, countries) == [
        "+33612345678", "+33612345678", "+33612345678", None, None, "+33612345678"]
    assert run(P.phone_sql("US"), ["06 12 34 56 78", "+33 6 12 34 56 78"]) == [None, "+33612345678"]


def test_numbers_read_in_their_rows_country():
    values = ["0470 12 34 56", "(650) 253-0000", "030 1234567", "020 7946 0958", "022 123 45 67", "06 12 34 56 78",
              "06 12 34 56 78", "06 12 34 56 78"]
    countries = ["Belgique", "United States", "Deutschland", "Royaume-Uni", "Suisse", "Narnia", "NA", None]
    assert mapped(values, countries) == ["+32470123456", "+16502530000", "+49301234567", "+442079460958",
                                         "+41221234567", "+33612345678", "+33612345678", "+33612345678"]
    assert mapped(["(650) 253-0000", "06 12 34 56 78"], ["Narnia", ""], region="US") == ["+16502530000", None]


def test_number_not_valid_for_its_country_is_null():
    assert mapped(["02 512 34 56", "02 512 34 56"], ["Belgique", "France"]) == ["+3225123456", None]
    assert mapped(["06 12 34 56 78"], ["United States"]) == [None]


def test_us_numbers_and_the_00_international_prefix():
    values = ["(650) 253-0000", "650-253-0000", "001 650 253 0000", "0033 6 12 34 56 78", "(555) 123-4567",
              "555-123-4567", "001-599-042-7428x143"]
    # 555 and 599 are no area codes (fictional numbers, as faker and datablist write them): invalid.
    assert mapped(values, region="US") == ["+16502530000", "+16502530000", "+16502530000", "+33612345678",
                                           None, None, None]


def test_country_regions_from_codes_and_names():
    countries = pd.Series(["Belgique", "Belgium", "Deutschland", "Germany", "Allemagne", "United States", "USA",
                           "U.S.A.", "États-Unis", "Royaume-Uni", "UK", "Suisse", "DEU", "fr", "La Réunion",
                           "Narnia", "", None, "N/A"])
    assert P.country_regions(countries, "fr", ("N/A",)).tolist() == [
        "BE", "BE", "DE", "DE", "DE", "US", "US", "US", "US", "GB", "GB", "CH", "DE", "FR", "RE",
        "FR", "FR", "FR", "FR"]


def test_split_extension():
    values = pd.Series(["(555) 123-4567 x4715", "555-123-4567x 12", "+33 1 23 45 67 89 ext. 12", "0123456789 Ext 5",
                        "01 23 45 67 89 extension 12", "01 23 45 67 89, poste 12", "0612345678 #3", "06 12 34 56 78",
                        None, "x12", "01 23 45 67 89 p. 4", "01 23 45 67 89 extn 56"], index=range(10, 22))
    result = P.split_extension(values)
    assert list(result.index) == list(range(10, 22))
    assert result["number"].tolist() == [
        "(555) 123-4567", "555-123-4567", "+33 1 23 45 67 89", "0123456789", "01 23 45 67 89", "01 23 45 67 89",
        "0612345678", "06 12 34 56 78", None, "x12", "01 23 45 67 89", "01 23 45 67 89"]
    assert result["extension"].tolist() == ["4715", "12", "12", "5", "12", "12", "3", None, None, None, "4", "56"]
    assert run(P.extension_sql(), values.tolist()) == result["extension"].tolist()
    assert mapped(["01 23 45 67 89 p. 4"]) == ["+33123456789"]  # the mapper reads what the fast path leaves
    assert run(P.phone_sql("FR"), ["01 23 45 67 89 p. 4"]) == [None]


def test_plan_carries_the_country_column():
    opts = NormalizeOptions(default_region="us")
    with_country = P.plan("Phone", "phone", pd.Series(dtype=object), opts, None, "Country")
    assert (with_country.context, with_country.fill, "{c}" in with_country.expr) == ("Country", True, True)
    frame = pd.DataFrame({"value": ["0470 12 34 56", "(650) 253-0000"], "context": ["BE", ""]})
    assert with_country.mapper(frame).tolist() == ["+32470123456", "+16502530000"]
    alone = P.plan("Phone", "phone", pd.Series(dtype=object), opts)
    assert (alone.context, "{c}" in alone.expr) == (None, False)


def _clean_phones(ws, csv: str, settings: ImportSettings) -> list:
    handle = ws.ingest.import_bytes(csv.encode(), "c.csv", settings)
    return [r[0] for r in ws.store.query_rows(f'SELECT "Phone" FROM {handle.info.clean_table} ORDER BY _row')]


def test_import_reads_each_row_in_its_country(tmp_path):
    rows = [("06 12 34 56 78", "France"), ("0690 12 34 56", "France"), ("0692 12 34 56", ""),
            ("0596 11 11 11", "France"), ("0470 12 34 56", "Belgique"), ("(650) 253-0000 x4715", "United States"),
            ("030 1234567", "Deutschland"), ("06 12 34 56 78", "Narnia"), ("+33 1 23 45 67 89 poste 12", "Belgique"),
            ("07 01 23 45 67", "France"), ("0639 01 23 45", "Mayotte")]
    csv = "id;Phone;Country\n" + "".join(f"C{i};{p};{c}\n" for i, (p, c) in enumerate(rows))
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        assert _clean_phones(ws, csv, ImportSettings(roles={"Phone": "phone", "Country": "country"})) == [
            "+33612345678", "+590690123456", "+262692123456", None, "+32470123456", "+16502530000",
            "+49301234567", "+33612345678", "+33123456789", None, "+262639012345"]
    finally:
        ws.close()


def test_import_with_a_default_region_and_no_country_column(tmp_path):
    csv = "id,Phone\nA,(650) 253-0000\nB,650.253.0000 ext. 9\nC,+33 6 12 34 56 78\nD,06 12 34 56 78\nE,(555) 123-4567\n"
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        assert _clean_phones(ws, csv, ImportSettings(default_region="US", roles={"Phone": "phone"})) == [
            "+16502530000", "+16502530000", "+33612345678", None, None]
    finally:
        ws.close()


def test_vectorised_french_decisions_agree_with_phonenumbers_on_every_block():
    """The mapper decides French-plan numbers outside the overseas and 08 blocks by pattern, without parsing:
    on every 4-digit block it must give what parsing each number with phonenumbers gives."""
    numbers = [f"0{block} {suffix}" for block in range(1000, 10000) for suffix in ("00000", "45678")]
    vectorised = P.map_phones(pd.DataFrame({"value": numbers}), "FR").tolist()
    parsed = [P._normalise(n, "FR") for n in numbers]
    assert [(n, v, p) for n, v, p in zip(numbers, vectorised, parsed, strict=True) if v != p] == []


def test_overseas_and_08_candidates_decided_without_parsing_agree_with_phonenumbers():
    """Candidates that no type pattern of the French plan matches are refused without parsing; on every
    4-digit block of the overseas and 08 prefixes that must be what parsing gives."""
    blocks = [b for b in range(1000, 10000) if str(b).startswith(("26", "59", "63", "69", "70", "8"))]
    numbers = [f"0{block} {suffix}" for block in blocks for suffix in ("00000", "45678", "99999")]
    vectorised = P.map_phones(pd.DataFrame({"value": numbers}), "FR").tolist()
    parsed = [P._normalise(n, "FR") for n in numbers]
    assert [(n, v, p) for n, v, p in zip(numbers, vectorised, parsed, strict=True) if v != p] == []


def test_values_kept_from_the_mapper_are_decided_by_the_fast_path():
    """``undecided_sql`` spares the mapper French numbers written with digits and separators: for every
    4-digit block (the overseas and 08 blocks included), national or ``+33``, in every way of writing it,
    and for national numbers of another length or values with too few digits, the fast path gives exactly
    what the mapper and phonenumbers would."""
    writings = ((" ", "45 678"), (".", "00000"), ("-", "99999"), (" ", "00 001"))
    base = [f"0{block}{sep}{suffix}" for block in range(1000, 10000) for sep, suffix in writings]
    numbers = base + [f"(0{n[1:3]}) {n[3:]}" for n in base[::7]] + [f"(0){n[1:]}" for n in base[3::11]]
    numbers += [f"+33 {n[1:]}" for n in base[1::3]] + [f"0033{n[1:]}" for n in base[2::13]]
    numbers += [f"+33 (0){n[1:]}" for n in base[5::17]] + [f"+330{n[1:]}" for n in base[6::19]]
    numbers += [n[:-3] for n in base[::5]] + [n + "7" for n in base[4::9]] + ["+33 3 83", "95865", "0",
                                                                               "00 33 6 90 12 34 56"]
    numbers += ["Tel: 0612345678", "06 12 34 56 78 x12", "+33\xa06 12 34 56 78", "+33 (0)6 90 12 34 56 ext 1",
                "+32 470 12 34 56", "0(0)690123456", "++33612345678"]
    undecided = run(P.undecided_sql(), numbers)
    fast = run(P.phone_sql("FR"), numbers)
    spared = [(n, f) for n, u, f in zip(numbers, undecided, fast, strict=True) if not u]
    assert [n for n, u in zip(numbers, undecided, strict=True) if u] == numbers[-7:]
    expected = P.map_phones(pd.DataFrame({"value": [n for n, _ in spared]}), "FR").tolist()
    assert [(n, f, e) for (n, f), e in zip(spared, expected, strict=True) if f != e] == []
    assert [(n, f, P._normalise(n, "FR")) for n, f in spared[::23] if f != P._normalise(n, "FR")] == []
    assert run(P.undecided_sql(), ["Tel: 0612345678", "06 12 34 56 78 x12", "0690 12 34 56", "0812345678",
                                   "+33 (0)6 90 12 34 56", "06 12 34", "+33 6 12"]) == \
        [True, True, False, False, False, False, False]
    # Overseas numbers of each territory, a 08 number, and the invalid ones (an unassigned overseas block,
    # a 08 block phonenumbers refuses), from the fast path alone.
    assert run(P.phone_sql("FR"), ["0690 12 34 56", "0696 12 34 56", "0694 01 23 45", "0692 12 34 56",
                                   "0639 01 23 45", "0590 87 12 34", "0800 12 34 56", "0695 12 34 56",
                                   "0709 99 34 56", "(01) 23 45 67 89", "(0)1 23 45 67 89"]) == [
        "+590690123456", "+596696123456", "+594694012345", "+262692123456", "+262639012345", "+590590871234",
        "+33800123456", "+33695123456", None, "+33123456789", "+33123456789"]


def test_the_plan_binds_the_compacted_number_once_and_reads_what_phone_sql_reads():
    """The importer's plan computes the number without separators once per row (``bind``, a subquery column);
    through the clean table's SQL it must read every number as :func:`phone_sql` alone does."""
    from segmentation.ingest.statements import clean_select_sql

    numbers = [f"0{block}{sep}{suffix}" for block in range(1000, 10000, 7) for sep, suffix in ((" ", "45 678"),
                                                                                             (".", "00000"))]
    numbers += ["+33 6 90 12 34 56", "0033 1 23 45 67 89", "(01) 23 45 67 89", "06 12 34 56 78 x12", None, ""]
    plan = P.plan("Phone", "phone", pd.Series(numbers[:50]), NormalizeOptions())
    assert plan.bind is not None and "{b}" in plan.expr
    con = duckdb.connect()
    con.execute("CREATE TABLE raw AS SELECT unnest(?::VARCHAR[]) AS \"Phone\", generate_subscripts(?::VARCHAR[], 1) "
                "AS _row", [numbers, numbers])
    bound = [r[1] for r in con.execute(f"{clean_select_sql([plan], 'raw', {})} ORDER BY 1").fetchall()]
    assert bound == run(P.phone_sql("FR"), numbers)
    assert P.plan("Phone", "phone", pd.Series(numbers[:5]), NormalizeOptions(default_region="BE")).bind is None
