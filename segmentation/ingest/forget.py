"""The right to be forgotten (GDPR art. 17): who a person is, and what is left of a file without them.

Pure: identifiers folded and hashed, stored uploads re-written without a
person's lines, the rows of an incoming file that belong to a forgotten
person. :meth:`segmentation.ingest.repository.DatasetsRepository.forget`
runs the erasure itself (one transaction, statements listed by
:func:`segmentation.core.schema.forget_person_sql`).

The audit line of an erasure (table ``forgotten``) holds a salted SHA-256 of
the identifier, never the identifier: the salt is the store's own (``meta``),
so the hash cannot be looked up in a table of known e-mails' hashes, and an
import can still tell that a row belongs to a forgotten person and skip it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import SettingError
from .readers import _OLE2_MAGIC, _ZIP_MAGICS, decode_text

IDENTIFIERS = ("email", "id")  # what a person is named by: an e-mail, or a record id
SALT_KEY = "forget_salt"       # the store's salt, in ``meta``


def fold(kind: str, value: str) -> str:
    """The identifier as compared: trimmed, and an e-mail lower-cased."""
    if kind not in IDENTIFIERS:
        raise SettingError("identifier", kind, f"one of {list(IDENTIFIERS)}")
    text = str(value).strip()
    if not text:
        raise SettingError(kind, value, "a non-empty value", f"Give the {kind} of the person to forget.")
    return text.lower() if kind == "email" else text


def person_hash(salt: str, kind: str, value: str) -> str:
    """Salted SHA-256 of a folded identifier (what the audit keeps)."""
    return hashlib.sha256(f"{salt}:{kind}:{fold(kind, value)}".encode()).hexdigest()


@dataclass(frozen=True)
class ForgetResult:
    """What ``forget`` removed (rows per table) or, with ``lifted``, how many erasures were lifted."""

    identifier: str
    datasets: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    uploads_rewritten: list[str] = field(default_factory=list)
    uploads_deleted: list[str] = field(default_factory=list)
    lifted: int | None = None

    def to_dict(self) -> dict:
        if self.lifted is not None:
            return {"identifier": self.identifier, "lifted": self.lifted}
        return {"identifier": self.identifier, "datasets": list(self.datasets), "removed": dict(self.removed),
                "uploads_rewritten": list(self.uploads_rewritten), "uploads_deleted": list(self.uploads_deleted)}


def is_workbook(data: bytes) -> bool:
    """Whether stored bytes are an Excel workbook (which is not re-written line by line)."""
    return data.startswith((*_ZIP_MAGICS, _OLE2_MAGIC))


def line_matcher(kind: str, value: str):
    """A test of one line of text: does it hold the person's identifier (an e-mail anywhere, an id as a token)."""
    folded = fold(kind, value)
    if kind == "email":
        return lambda line: folded in line.lower()
    token = re.compile(r"(^|[^0-9A-Za-z])" + re.escape(folded) + r"([^0-9A-Za-z]|$)")
    return lambda line: token.search(line) is not None


def id_pattern(value: str) -> str:
    """A regular expression (RE2) finding a record id as a token in a line of text."""
    return r"(^|[^0-9A-Za-z])" + re.escape(fold("id", value)) + r"([^0-9A-Za-z]|$)"


def without_person(data: bytes, kind: str, value: str) -> tuple[bytes, int]:
    """A text file's bytes without the records holding the person, in the same encoding; records removed."""
    text, encoding = decode_text(data)
    holds = line_matcher(kind, value)
    records = _records(text)
    kept = [record for i, record in enumerate(records) if i == 0 or not holds(record)]  # the header stays
    if len(kept) == len(records):
        return data, 0
    return "".join(kept).encode(encoding), len(records) - len(kept)


def _records(text: str) -> list[str]:
    """The CSV records of a text, line ends kept: a quoted cell may hold line breaks (a note, an address),
    so a record ends only where the double quotes seen so far are balanced."""
    records: list[str] = []
    pending: list[str] = []
    quotes = 0
    for line in text.splitlines(keepends=True):
        pending.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            records.append("".join(pending))
            pending, quotes = [], 0
    if pending:
        records.append("".join(pending))
    return records


def forgotten_mask(table: pa.Table, columns: dict[str, list[str]], salt: str | None,
                   hashes: set[str]) -> tuple[pa.Table, int]:
    """``table`` without the rows of forgotten people (by their e-mail or id columns); rows skipped."""
    if not hashes or salt is None or not table.num_rows:
        return table, 0
    drop = None
    for kind, names in columns.items():
        for name in names:
            if name not in table.column_names:
                continue
            values = table.column(name).to_pylist()
            hit = pa.array([v is not None and str(v).strip() != "" and person_hash(salt, kind, v) in hashes
                            for v in values])
            drop = hit if drop is None else pc.or_(drop, hit)
    if drop is None:
        return table, 0
    skipped = int(pc.sum(drop).as_py() or 0)
    return (table.filter(pc.invert(drop)), skipped) if skipped else (table, 0)
