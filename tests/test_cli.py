"""The command-line interface: JSON on stdout, ``error:`` on stderr with exit status 2."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.ingest.normalize import fold_category
from tests.conftest import ROOT


def run_cli(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() and "--json" in args else None), err


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.duckdb")


@pytest.fixture
def crm_file(tmp_path, french_csv):
    path = tmp_path / "crm export.csv"
    path.write_bytes(french_csv)
    return str(path)


def test_import_datasets_quality_export(capsys, db, crm_file, tmp_path):
    code, result, _ = run_cli(capsys, "--db", db, "import", crm_file, "--json")
    assert code == 0
    assert result["dataset"] == "crm export" and result["rows"] == 4
    assert (result["encoding"], result["delimiter"], result["rejected_rows"]) == ("cp1252", ";", 0)
    assert "E-mail" in [c["name"] for c in result["columns"]]

    code, result, _ = run_cli(capsys, "datasets", "--db", db, "--json")
    assert code == 0 and [d["name"] for d in result["datasets"]] == ["crm export"]
    assert result["datasets"][0]["rows"] == 4 and result["datasets"][0]["kind"] == "customers"

    code, result, _ = run_cli(capsys, "--db", db, "quality", "--json")
    assert code == 0
    assert result["invalid_emails"] == 1 and result["invalid_phones"] == 1
    assert result["missing"]["Valeur contrat"] == 1
    assert result["duplicate_keys"] == {"E-mail": 0, "Téléphone": 2}

    out = tmp_path / "out.xlsx"
    code, result, _ = run_cli(capsys, "--db", db, "export", "--out", str(out), "--json")
    assert code == 0 and result["rows"] == 4
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet[1]][:3] == ["ID client", "Société", "Région"]
    assert sheet.max_row == 5


def test_errors_exit_2_with_one_line(capsys, db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run_cli(capsys, "--db", db, "import", str(empty), "--json")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run_cli(capsys, "--db", db, "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err
    code, _, err = run_cli(capsys, "--db", db, "quality", "--dataset", "nope", "--json")
    assert code == 2 and err.startswith("error: No dataset named 'nope'")


def test_module_entry_point_and_locked_store(tmp_path, crm_file):
    db = tmp_path / "p.duckdb"
    done = subprocess.run([sys.executable, "-m", "segmentation", "--db", str(db), "import", crm_file, "--json"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 4
    # While this process holds the store, another process gets a clear error, not a traceback.
    from segmentation.core.store import Store
    holder = Store(db)
    try:
        done = subprocess.run([sys.executable, "-m", "segmentation", "--db", str(db), "datasets", "--json"],
                              capture_output=True, text=True, cwd=ROOT, check=False)
    finally:
        holder.close()
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: Cannot open the working store")


def test_merge_pairs_file_export_golden_and_unmerge(capsys, db, crm_file, tmp_path):
    assert run_cli(capsys, "--db", db, "import", crm_file, "--json")[0] == 0
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("left_id,right_id\nC3,C4\n", encoding="utf-8")
    code, result, _ = run_cli(capsys, "--db", db, "merge", "--pairs", str(pairs), "--json")
    assert code == 0
    assert result == {"groups_merged": 1, "records_before": 4, "records_after": 3, "refused_chains": 0}

    out = tmp_path / "golden.csv"
    code, result, _ = run_cli(capsys, "--db", db, "export", "--out", str(out), "--json")
    assert code == 0 and result["rows"] == 3 and "source_ids" in result["columns"]
    text = out.read_text(encoding="utf-8")
    assert "C3;C4" in text

    code, result, _ = run_cli(capsys, "--db", db, "unmerge", "--all", "--json")
    assert code == 0 and result == {"records_after": 4}

    bad = tmp_path / "bad.csv"
    bad.write_text("left_id,right_id\nC3,NOPE\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "--db", db, "merge", "--pairs", str(bad), "--json")
    assert code == 2 and "NOPE" in err


def test_usage_errors_are_one_error_line(capsys, db):
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", db, "merge", "--json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_dedupe_sample_then_merge_above(capsys, db):
    sample = str(ROOT / "sample_data" / "customers.csv")
    assert run_cli(capsys, "--db", db, "import", sample, "--json")[0] == 0
    out = ROOT / "test-artifacts" / "pairs.csv"
    out.parent.mkdir(exist_ok=True)
    code, result, _ = run_cli(capsys, "--db", db, "dedupe", "--pairs-out", str(out), "--json")
    assert code == 0
    assert result["records"] == 5480
    assert 0 < result["candidate_pairs"] <= result["pairs_compared"] < 5480 * 5479 // 2 // 100
    assert result["sure_matches"] + result["to_review"] == result["candidate_pairs"]
    pairs = out.read_text(encoding="utf-8").splitlines()
    assert pairs[0] == "left_id,right_id,score" and len(pairs) == result["candidate_pairs"] + 1
    scores = [float(line.rsplit(",", 1)[1]) for line in pairs[1:]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)

    code, result, _ = run_cli(capsys, "--db", db, "merge", "--above", "0.9", "--json")
    assert code == 0 and result["records_before"] == 5480 and result["records_after"] < 5480

    # What a user gets after merging the sure matches, judged against the sample's truth.
    golden = ROOT / "test-artifacts" / "golden.csv"
    assert run_cli(capsys, "--db", db, "export", "--out", str(golden), "--json")[0] == 0
    merged = {pair for ids in pd.read_csv(golden, dtype=str)["source_ids"]
              for pair in itertools.combinations(sorted(ids.split(";")), 2)}
    truth = pd.read_csv(ROOT / "sample_data" / "truth.csv", dtype=str)
    same = {pair for _, ids in truth.groupby("customer_key")["record_id"]
            for pair in itertools.combinations(sorted(ids), 2)}
    precision, recall = len(merged & same) / len(merged), len(merged & same) / len(same)
    assert precision >= 0.98 and recall >= 0.95, (precision, recall)


def test_import_append_to_an_existing_dataset(capsys, db, crm_file, tmp_path, french_csv):
    assert run_cli(capsys, "--db", db, "import", crm_file)[0] == 0
    later = tmp_path / "later.csv"
    text = french_csv.decode("cp1252").replace("Boulangerie Martin SAS", "Boulangerie Martin")
    later.write_bytes((text + "C9;Nouvelle;Bretagne;Anne;Le Gall;anne@x.fr;;29000;;;;\r\n").encode("cp1252"))
    code, result, _ = run_cli(capsys, "--db", db, "import", str(later), "--append-to", "crm export", "--json")
    assert code == 0
    assert (result["dataset"], result["rows"], result["rows_added"], result["rows_updated"],
            result["rows_unchanged"]) == ("crm export", 5, 1, 1, 3)
    code, _, err = run_cli(capsys, "--db", db, "import", str(later), "--append-to", "nope")
    assert code == 2 and err.startswith("error: No dataset named 'nope'")


def test_elbow_segment_assign_and_export_with_segments(capsys, db, tmp_path):
    sample = str(ROOT / "sample_data" / "customers.csv")
    assert run_cli(capsys, "--db", db, "import", sample)[0] == 0
    code, elbow, _ = run_cli(capsys, "--db", db, "elbow", "--k-min", "2", "--k-max", "6", "--json")
    assert code == 0
    assert elbow["k"] == [2, 3, 4, 5, 6] and len(elbow["inertia"]) == len(elbow["silhouette"]) == 5
    assert elbow["inertia"] == sorted(elbow["inertia"], reverse=True)
    assert elbow["recommended_k"] in elbow["k"] and elbow["reason"].startswith(f"{elbow['recommended_k']} segments")

    code, run, _ = run_cli(capsys, "--db", db, "segment", "--k", "4", "--features",
                           "Valeur contrat,Tickets support,Secteur", "--name", "Q4", "--json")
    assert code == 0
    assert (run["run"], run["k"], run["features"]) == ("Q4", 4, ["Valeur contrat", "Tickets support", "Secteur"])
    assert sum(run["sizes"].values()) == 5480 and list(run["sizes"]) == ["0", "1", "2", "3"]

    code, assigned, _ = run_cli(capsys, "--db", db, "assign", "--json")
    assert code == 0 and assigned == {"run": "Q4", "assigned": 5480, "sizes": run["sizes"]}

    out = tmp_path / "segments.csv"
    assert run_cli(capsys, "--db", db, "export", "--out", str(out), "--run", "Q4")[0] == 0
    exported = pd.read_csv(out, dtype=str)
    assert exported["segment"].value_counts().sort_index().to_dict() == run["sizes"]

    code, _, err = run_cli(capsys, "--db", db, "segment", "--k", "3", "--features", "Nom")
    assert code == 2 and err.startswith("error: Unknown features ['Nom']; the dataset offers [")
    code, _, err = run_cli(capsys, "--db", db, "assign", "--run", "nope")
    assert code == 2 and "error: No segment run named 'nope'" in err


def test_profile_and_rename(capsys, db):
    sample = str(ROOT / "sample_data" / "customers.csv")
    assert run_cli(capsys, "--db", db, "import", sample)[0] == 0
    assert run_cli(capsys, "--db", db, "segment", "--k", "3", "--name", "R")[0] == 0
    code, profile, _ = run_cli(capsys, "--db", db, "profile", "--json")
    assert code == 0 and profile["run"] == "R" and 0 < profile["tree_agreement"] <= 1
    assert [s["segment"] for s in profile["segments"]] == [0, 1, 2]
    assert sum(s["size"] for s in profile["segments"]) == 5480
    first = profile["segments"][0]
    assert set(first) >= {"name", "share", "rule", "rule_precision", "rule_coverage", "reachable_email", "features"}
    assert first["features"]["Valeur contrat"]["index"] > 0 and first["rule"]
    code, renamed, _ = run_cli(capsys, "--db", db, "rename", "--run", "R", "--segment", "2", "--name", "Dormants",
                               "--json")
    assert code == 0 and renamed["names"]["2"] == "Dormants"
    assert renamed["names"]["0"] == first["name"]                       # the others keep their names
    code, profile, _ = run_cli(capsys, "--db", db, "profile", "--run", "R", "--json")
    assert profile["segments"][2]["name"] == "Dormants"
    code, _, err = run_cli(capsys, "--db", db, "rename", "--run", "R", "--segment", "7", "--name", "x")
    assert code == 2 and "error: Run 'R' has segments 0..2; got 7." in err


def test_export_an_audience(capsys, db, tmp_path):
    sample = str(ROOT / "sample_data" / "customers.csv")
    assert run_cli(capsys, "--db", db, "import", sample)[0] == 0
    assert run_cli(capsys, "--db", db, "segment", "--k", "3", "--name", "R")[0] == 0
    assert run_cli(capsys, "--db", db, "rename", "--run", "R", "--segment", "1", "--name", "Core")[0] == 0
    out = tmp_path / "idf.csv"
    code, result, _ = run_cli(capsys, "--db", db, "export", "--segments", "Core,2", "--filter", "Région=Île-de-France",
                              "--filter", '"Valeur contrat">=2000', "--holdout", "20", "--seed", "5",
                              "--save-as", "IDF", "--out", str(out), "--json")
    assert code == 0
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    held = pd.read_csv(tmp_path / "idf (holdout).csv", dtype=str, keep_default_na=False)
    assert result["rows"] == len(rows) > 0 and result["holdout_rows"] == len(held) > 0
    assert not set(held["ID client"]) & set(rows["ID client"])
    assert result["columns"] == list(rows.columns) == ["ID client", "Société", "Prénom", "Nom", "E-mail",
                                                       "segment_name"]
    assert "Core" in set(rows["segment_name"]) and len(set(rows["segment_name"])) <= 2   # segments 1 and 2 only
    source = pd.read_csv(ROOT / "sample_data" / "customers.csv", sep=";", encoding="cp1252", dtype=str,
                         keep_default_na=False)
    chosen = source.set_index("ID client").loc[rows["ID client"]]
    assert set(fold_category(chosen["Région"])) == {"ile de france"}        # every spelling of it, nothing else
    assert (chosen["Consentement"].str.lower() == "oui").all()
    assert result["excluded_no_consent"] > 0
    again = tmp_path / "again.csv"
    code, result2, _ = run_cli(capsys, "--db", db, "export", "--audience", "IDF", "--out", str(again), "--json")
    assert code == 0 and result2["rows"] == result["rows"]
    assert pd.read_csv(again, dtype=str).equals(pd.read_csv(out, dtype=str))  # same list, same holdout
    code, _, err = run_cli(capsys, "--db", db, "export", "--filter", "Région", "--out", str(again))
    assert code == 2 and "error: Cannot read filter 'Région'" in err


def test_rfm_command(capsys, db):
    assert run_cli(capsys, "--db", db, "import", str(ROOT / "sample_data" / "customers.csv"))[0] == 0
    assert run_cli(capsys, "--db", db, "import", str(ROOT / "sample_data" / "orders.csv"), "--kind",
                   "transactions")[0] == 0
    code, result, _ = run_cli(capsys, "--db", db, "rfm", "--as-of", "2026-11-01", "--json")
    assert code == 0 and result["link_column"] == "customer_id" and result["as_of"] == "2026-11-01"
    assert sum(result["groups"].values()) == result["customers_with_orders"] > 4000
    assert result["unknown_customer_orders"] >= 0
    code, _, err = run_cli(capsys, "--db", db, "rfm", "--orders", "customers")
    assert code == 2 and "holds customers, not orders" in err


def test_score_command(capsys, db, tmp_path):
    rng = __import__("numpy").random.default_rng(0)
    usage = rng.gamma(2, 3, 400)
    churned = rng.random(400) < 1 / (1 + __import__("numpy").exp(-(usage - 6)))
    path = tmp_path / "crm.csv"
    path.write_text("id;usage;churned\n" + "".join(f"K{i};{u:.2f};{'oui' if c else 'non'}\n"
                                                   for i, (u, c) in enumerate(zip(usage, churned, strict=True))))
    assert run_cli(capsys, "--db", db, "import", str(path))[0] == 0
    code, result, _ = run_cli(capsys, "--db", db, "score", "--target", "churned", "--name", "churn",
                              "--features", "usage", "--json")
    assert code == 0 and result["model"] == "churn" and result["column"] == "score_churn"
    assert result["auc_mean"] >= 0.8 and result["top_features"] == ["usage"]
    code, _, err = run_cli(capsys, "--db", db, "score", "--target", "nope")
    assert code == 2 and "error: Missing columns ['nope']" in err


# -- the import's options and read report ----------------------------------------
READ_OPTIONS_CSV = ("id;Quand;Montant;Tel;Code\n"
                    "1;13/02/2024;1,5;0612345678;A12\n"
                    "2;02/13/2024;2.25;020 7946 0958;?\n"
                    "3;2024-03-01;1.234,5;;B7\n")


def read_figures(result: dict, *names: str) -> dict:
    return {c["name"]: (c["read"], c["invalid"], c["missing"], c["examples_unread"])
            for c in result["columns"] if c["name"] in names}


@pytest.fixture
def options_file(tmp_path):
    path = tmp_path / "options.csv"
    path.write_text(READ_OPTIONS_CSV, encoding="utf-8")
    return str(path)


def test_import_options_change_the_read_report(capsys, tmp_path, options_file):
    def imported(*options: str) -> dict:
        db = str(tmp_path / f"o{len(list(tmp_path.glob('o*.duckdb')))}.duckdb")
        code, result, err = run_cli(capsys, "--db", db, "import", options_file, "--json",
                                    "--roles", "Quand=date,Montant=measure,Tel=phone,Code=text", *options)
        assert code == 0, err
        return result

    base = imported()
    assert [c["role"] for c in base["columns"]] == ["id", "date", "measure", "phone", "text"]
    assert read_figures(base, "Quand", "Tel", "Code") == {
        "Quand": (2, 1, 0, ["02/13/2024"]), "Tel": (1, 1, 1, ["020 7946 0958"]), "Code": (3, 0, 0, [])}
    assert read_figures(imported("--date-order", "mdy"), "Quand") == {"Quand": (2, 1, 0, ["13/02/2024"])}
    assert read_figures(imported("--decimal", ","), "Montant") == {"Montant": (2, 1, 0, ["2.25"])}
    assert read_figures(imported("--decimal", "."), "Montant") == {"Montant": (1, 2, 0, ["1,5", "1.234,5"])}
    assert read_figures(imported("--missing", "?,NA"), "Code") == {"Code": (2, 0, 1, [])}
    assert read_figures(imported("--region", "GB"), "Tel") == {"Tel": (1, 1, 1, ["0612345678"])}
    as_code = imported("--roles", "Code=measure")
    assert read_figures(as_code, "Code") == {"Code": (0, 3, 0, ["?", "A12", "B7"])}


def test_import_bad_roles_exit_2_with_one_error_line(capsys, db, options_file):
    for roles, message in (("Code=nope", "error: roles must be one of"),
                           ("Nope=text", "error: Missing columns ['Nope']"),
                           ("Code", "error: --roles must be")):
        code, _, err = run_cli(capsys, "--db", db, "import", options_file, "--roles", roles, "--json")
        assert code == 2 and err.startswith(message) and err.count("\n") == 1, err
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", db, "import", options_file, "--date-order", "dym"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_export_preset_hash_holdout_file_and_the_consent_choice(capsys, db, tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text("id;email;phone\n" + "".join(f"L{i};Lead{i}@X.fr;06 12 34 56 {i:02d}\n" for i in range(10)),
                      encoding="utf-8")
    assert run_cli(capsys, "--db", db, "import", str(source))[0] == 0
    out, control = tmp_path / "google.csv", tmp_path / "control.csv"
    args = ["--db", db, "export", "--preset", "google", "--hash", "--holdout", "20", "--holdout-out", str(control),
            "--out", str(out), "--json"]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "has no consent or opt-out column" in err and "--no-consent-column" in err
    assert not out.exists()
    code, result, _ = run_cli(capsys, *args, "--no-consent-column", "treat-as-consenting")
    assert code == 0 and (result["rows"], result["holdout_rows"]) == (8, 2) and result["holdout_out"] == str(control)
    contact, held = (pd.read_csv(p, dtype=str, header=None) for p in (out, control))
    assert contact.iloc[0].tolist()[:4] == ["Email", "Email", "Email", "Phone"] and len(contact) == 9
    everyone = {__import__("hashlib").sha256(f"lead{i}@x.fr".encode()).hexdigest() for i in range(10)}
    assert set(contact[0][1:]) | set(held[0][1:]) == everyone and not set(contact[0][1:]) & set(held[0][1:])
    assert not (contact[3][1:].str.startswith("'")).any()
    code, result, _ = run_cli(capsys, "--db", db, "export", "--preset", "excel-fr", "--no-consent-column", "exclude",
                              "--out", str(tmp_path / "none.csv"), "--json")
    assert code == 0 and result["rows"] == 0
    from segmentation import open_workspace
    ws = open_workspace(db)
    log = ws.dataset().audiences.export_log()
    ws.close()
    assert log["consent"].tolist() == ["no consent column: everyone excluded",
                                       "no consent column: treated as consenting"]


def test_export_changes_since_the_last_export(capsys, db, tmp_path):
    source = tmp_path / "crm.csv"
    source.write_text("id;email;consent\nA;a@x.fr;oui\nB;b@x.fr;oui\nC;c@x.fr;non\n", encoding="utf-8")
    assert run_cli(capsys, "--db", db, "import", str(source))[0] == 0
    assert run_cli(capsys, "--db", db, "export", "--columns", "id", "--save-as", "All", "--out",
                   str(tmp_path / "all.csv"))[0] == 0
    changes = tmp_path / "changes"
    changes.mkdir()
    code, result, _ = run_cli(capsys, "--db", db, "export", "--audience", "All", "--include-no-consent",
                              "--out", str(tmp_path / "all.csv"), "--changes-out", str(changes), "--json")
    assert code == 0 and result["changes"] == {"added": {"out": str(changes / "All added.csv"), "rows": 1},
                                               "removed": {"out": str(changes / "All removed.csv"), "rows": 0}}
    assert (changes / "All added.csv").read_text(encoding="utf-8") == "id\nC\n"


def test_rfm_command_order_columns(capsys, db, tmp_path):
    customers, orders = tmp_path / "clients.csv", tmp_path / "commandes.csv"
    customers.write_text("id;nom\nA;x\nB;y\n", encoding="utf-8")
    orders.write_text("N° commande;Client;Date;Qté;Prix unitaire;Montant;Statut\nF1;A;2026-01-10;2;5;10;Livrée\n"
                      "F1;A;2026-01-10;1;4;4;Livrée\nF2;A;2026-01-20;1;10;10;Annulée\nAV3;B;2026-01-15;-1;5;-5;\n"
                      "F4;B;2026-01-12;3;5;15;\n", encoding="utf-8")
    assert run_cli(capsys, "--db", db, "import", str(customers))[0] == 0
    assert run_cli(capsys, "--db", db, "import", str(orders), "--kind", "transactions")[0] == 0
    code, result, _ = run_cli(capsys, "--db", db, "rfm", "--as-of", "2026-01-31", "--json")
    assert code == 0 and result["columns"] == {
        "customer": "Client", "order_date": "Date", "order_id": "N° commande", "amount": "Montant", "quantity": "Qté",
        "unit_price": "Prix unitaire", "category": None, "status": "Statut"}
    figures = ("orders", "monetary", "cancelled_lines", "returned_lines")
    assert [result[k] for k in figures] == [2, 24.0, 1, 1]
    code, result, _ = run_cli(capsys, "--db", db, "rfm", "--as-of", "2026-01-31", "--amount-column", "",
                              "--status-column", "", "--cancel-prefix", "AV", "--json")
    assert code == 0 and (result["columns"]["amount"], result["columns"]["status"]) == (None, None)
    assert [result[k] for k in figures] == [3, 34.0, 1, 0]
    code, _, err = run_cli(capsys, "--db", db, "rfm", "--amount-column", "Statut")
    assert code == 2 and "error: Column 'Statut' of 'commandes' cannot be the “Amount” column" in err
