"""The activate stage as a dataset handle carries it (``handle.audiences``).

Thin methods over :mod:`segmentation.activate.audiences` (definitions and SQL text) with the handle's
dataset resolved once; :mod:`segmentation.activate.repository` is the stage's only SQL executor.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..core.errors import NotFoundError, SettingError
from ..core.stage import Stage
from ..core.vocabulary import ROLE_KIND
from ..ingest.readers import read_file
from . import audiences
from .audiences import AudienceCount, AudienceSpec, Condition, ExportResult
from .export import localise
from .repository import AudiencesRepository


class AudiencesStage(Stage):
    """Audiences of one customers dataset: live counts, lists, saved definitions, exports and their log."""

    @property
    def repository(self) -> AudiencesRepository:
        return AudiencesRepository(self.store)

    def _own(self, spec: AudienceSpec) -> AudienceSpec:
        """The spec on this handle's dataset (a spec naming another dataset is refused)."""
        if spec.dataset is None:
            return replace(spec, dataset=self.handle.name)
        if spec.dataset.casefold() != self.handle.name.casefold():
            raise SettingError("dataset", spec.dataset, f"this handle's dataset, {self.handle.name!r}")
        return spec

    def attribute_kinds(self) -> dict[str, str]:
        """Computed attributes (RFM, scores) a condition or a column can name, with their kind."""
        return audiences.attribute_kinds(self.store, self.dataset)

    def count(self, spec: AudienceSpec) -> AudienceCount:
        """Live figures: in segments, matching, excluded by each rule, by contact, consent, suppression."""
        return audiences.count(self.store, self._own(spec), self.dataset)

    def counting(self, spec: AudienceSpec) -> AudienceSpec:
        """The part of ``spec`` its figures depend on (not its columns, holdout or seed): the key a page counts
        on, so that moving the holdout slider does not count again (then :meth:`with_holdout`)."""
        return audiences.counting_spec(self._own(spec))

    def with_holdout(self, figures: AudienceCount, spec: AudienceSpec) -> AudienceCount:
        """The figures of :meth:`counting` with the holdout of ``spec``: equal to ``count(spec)``."""
        return audiences.with_holdout(figures, spec)

    def draw_places(self, spec: AudienceSpec, limit: int) -> list[int]:
        """For the first ``limit`` rows of :meth:`select`, how many customers of the audience come before each in
        the holdout draw of the spec's seed (not its share: a page keys this on :meth:`counting` and the seed)."""
        return audiences.draw_places(self.store, self._own(spec), limit, self.dataset)

    def held_out(self, preview: pd.DataFrame, places: list[int], spec: AudienceSpec,
                 figures: AudienceCount) -> pd.DataFrame:
        """``select`` of ``spec`` without its holdout, with its ``holdout`` flag: equal to ``select(spec)``."""
        return audiences.held_out(preview, places, spec, figures)

    def select(self, spec: AudienceSpec, limit: int | None = None) -> pd.DataFrame:
        """The audience's rows (its columns, a ``holdout`` flag when it keeps a holdout)."""
        return audiences.select(self.store, self._own(spec), limit, ds=self.dataset)

    def default_columns(self, spec: AudienceSpec) -> list[str]:
        """The columns a list carries by default: record id, names, the contact point, segment name."""
        return audiences.default_columns(self.store, self._own(spec), self.dataset)

    def personal_columns(self, spec: AudienceSpec, columns: list[str] | tuple[str, ...]) -> list[str]:
        """Of ``columns``, those holding personal data."""
        return audiences.personal_columns(self.store, self._own(spec), list(columns), self.dataset)

    def save(self, name: str, spec: AudienceSpec) -> str:
        """Keep the definition under ``name`` with this dataset (replacing one of that name); returns the name."""
        audiences.save_audience(self.store, name, self._own(spec), self.dataset)
        return name.strip()

    def get(self, name: str) -> AudienceSpec:
        """A saved definition, by name (case-insensitive), whichever dataset it was saved with."""
        return audiences.get_audience(self.store, name)

    def saved(self) -> pd.DataFrame:
        """This dataset's saved audiences: ``name``, ``saved_at``, ``spec``."""
        return audiences.saved_audiences(self.store, self.handle.name)

    def saved_with_sizes(self) -> pd.DataFrame:
        """This dataset's saved audiences with their size today: ``name``, ``saved_at``, ``customers``, ``status``."""
        return audiences.saved_with_sizes(self.store, self.handle.name)

    def delete(self, name: str) -> None:
        """Forget a saved audience."""
        audiences.delete_audience(self.store, name)

    def duplicate(self, name: str, new_name: str) -> str:
        """Save a copy of a saved audience under ``new_name``; returns the new name."""
        return audiences.duplicate_audience(self.store, name, new_name)

    def category_values(self, column: str, search: str = "", limit: int = 20) -> pd.DataFrame:
        """A column's most frequent values with their number of customers (``value``, ``customers``)."""
        return audiences.category_values(self.store, self.dataset, column, search, limit)

    def category_columns(self) -> list[str]:
        """Columns and computed attributes whose values are categories (a value picker lists them)."""
        kinds = {c: ROLE_KIND.get(r, "text") for c, r in self.dataset.roles.items()}
        return [c for c in self.dataset.columns if kinds.get(c) == "category"] + [
            name for name, kind in self.attribute_kinds().items() if kind == "category"]

    def applies(self, condition: Condition) -> bool:
        """Whether a condition names a column of this dataset (else the page shows it as not applicable)."""
        return audiences.applies(self.dataset, condition, self.attribute_kinds())

    def overlap(self, names: list[str] | tuple[str, ...]) -> pd.DataFrame:
        """Customers in both of every two saved audiences (the diagonal: each one's size)."""
        return audiences.overlap(self.store, list(names))

    def export(self, spec: AudienceSpec, out: str | Path, *, excel_french: bool = False,
               holdout_out: str | Path | None = None, audience: str | None = None, preset: str | None = None,
               hashed: bool = False, changes_out: str | Path | None = None) -> ExportResult:
        """Write the customers to contact to ``out`` (CSV, XLSX or Parquet by extension, or a destination
        ``preset``) and the holdout to ``holdout_out``, formula-safe, and log the export; with ``changes_out``
        (a folder), the customers a saved ``audience`` gained and lost since its previous export."""
        return audiences.export(self.store, self._own(spec), out, excel_french=excel_french, holdout_out=holdout_out,
                                audience=audience, preset=preset, hashed=hashed, changes_out=changes_out,
                                ds=self.dataset)

    def render(self, spec: AudienceSpec, file_format: str = "csv-excel", audience: str | None = None, *,
               part: str = "contacts", preset: str | None = None, hashed: bool = False,
               language: str | None = None) -> bytes:
        """One file of the audience as bytes for a download (``part``: ``contacts`` or ``holdout``), logged;
        with a ``language``, the headers the app names and yes/no values in it (a preset's headers never)."""
        return audiences.render(self.store, self._own(spec), file_format, audience, ds=self.dataset, part=part,
                                preset=preset, hashed=hashed, language=language)

    def localise(self, frame: pd.DataFrame, language: str | None) -> pd.DataFrame:
        """A frame of this audience's rows (:meth:`select`) with app-named headers and yes/no in ``language``."""
        return localise(frame, language, set(self.dataset.columns))

    def contact_columns(self) -> list[str]:
        """The extra contact columns a list can carry: every e-mail or phone, the second and the third."""
        return list(audiences.contact_columns(self.dataset))

    def save_suppression(self, name: str, values: list[str]) -> int:
        """Keep a suppression list (e-mails or record ids); returns its id for :attr:`AudienceSpec.suppression`."""
        return audiences.save_suppression(self.store, name, values)

    def save_suppression_file(self, file_name: str, data: bytes) -> int:
        """Read an uploaded suppression file (CSV, TXT or XLSX) and keep its e-mails (else its first column)."""
        table = read_file(data, file_name).table.to_pandas()
        return self.save_suppression(file_name, audiences.suppression_values(table))

    def segments_by_name(self, items: list[str] | tuple[str, ...],
                         run: str | None = None) -> tuple[str, tuple[int, ...]]:
        """The run (default: the current one) and the segments that ``items`` name, by number or by name."""
        segments = self.handle.segments
        chosen_run = segments.get_run(run)
        names = segments.names(chosen_run)
        by_name = {name.casefold(): k for k, name in names.items()}
        chosen = []
        for item in (str(x).strip() for x in items if str(x).strip()):
            if item.isdigit():
                chosen.append(int(item))
            elif item.casefold() in by_name:
                chosen.append(by_name[item.casefold()])
            else:
                raise NotFoundError(f"Run {chosen_run.name!r} has no segment {item!r}; its segments are {names}")
        return chosen_run.name, tuple(chosen)

    def export_log(self) -> pd.DataFrame:
        """Every export, newest first."""
        return audiences.export_log(self.store)
