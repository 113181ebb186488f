"""Harmonized microdata: one person table, its weights and its record report.

:class:`Microdata` is what every reader returns and what
:func:`scorecard.estimate` consumes. It holds

* ``frame``: a :class:`pandas.DataFrame` with the harmonized columns of
  :mod:`scorecard.schema` (plus any extra columns a researcher keeps),
* ``person_replicates`` / ``household_replicates``: float32 arrays of shape
  (N, 80) aligned with ``frame`` rows, or ``None`` for sources without
  replicate weights (those carry ``variance_strata`` / ``variance_cluster``),
* ``report``: a :class:`RecordReport` accounting for every source record,
* ``attrs``: provenance (survey, dollars_year, sources, variance method).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"YEAR": [2019, 2019], "ST": ["53", "53"], "PUMA": ["11601"] * 2,
...     "ID": ["a", "b"], "AGE": [34, 61], "WT": [120.0, 80.0]})
>>> micro = Microdata.from_frame(frame, mapping={"survey_year": "YEAR", "state": "ST",
...     "puma": "PUMA", "household_id": "ID", "age": "AGE", "person_weight": "WT"},
...     defaults={"puma_vintage": 2010, "person_id": 1})
>>> len(micro), micro.variance_method
(2, 'none')
>>> micro.report.kept
2
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scorecard import schema
from scorecard.errors import (
    DuplicateRecordError,
    InvalidWeightError,
    MismatchedSourcesError,
    MissingColumnsError,
    ReplicateCountError,
)
from scorecard.ranges import check_ranges

__all__ = ["Microdata", "RecordReport", "ReplicateProfile", "check_weights", "find_replicate_columns", "profile_replicates"]


@dataclass(frozen=True)
class RecordReport:
    """Where every source record went: read, kept, or dropped with a reason.

    ``entries`` has one row per (source, record_type, outcome, reason) with a
    ``count``. ``outcome`` is ``"read"``, ``"kept"`` or ``"dropped"``; for each
    record type, read = kept + dropped.

    Examples
    --------
    >>> report = RecordReport.single("p.csv", read=10, dropped={"no housing record": 2})
    >>> report.read, report.kept, report.dropped
    (10, 8, {'no housing record': 2})
    """

    entries: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source", "record_type", "outcome", "reason", "count"])
    )

    @classmethod
    def single(
        cls,
        source: str,
        *,
        read: int,
        dropped: Mapping[str, int] | None = None,
        record_type: str = "person",
        notes: Mapping[str, int] | None = None,
    ) -> RecordReport:
        """Report for one source: ``read`` records, some ``dropped`` by reason.

        ``notes`` records counts that are not drops (e.g. vacant housing units
        that have no persons), under outcome ``"note"``.
        """
        dropped = {k: int(v) for k, v in (dropped or {}).items() if v}
        rows = [(source, record_type, "read", "", int(read))]
        rows += [(source, record_type, "dropped", reason, n) for reason, n in dropped.items()]
        rows.append((source, record_type, "kept", "", int(read) - sum(dropped.values())))
        rows += [(source, record_type, "note", reason, int(n)) for reason, n in (notes or {}).items()]
        return cls(pd.DataFrame(rows, columns=["source", "record_type", "outcome", "reason", "count"]))

    def combine(self, *others: RecordReport) -> RecordReport:
        """One report holding the entries of this and ``others``."""
        frames = [r.entries for r in (self, *others) if len(r.entries)]
        if not frames:
            return self
        return RecordReport(pd.concat(frames, ignore_index=True))

    def with_drop(self, reason: str, count: int, *, source: str = "(after reading)", record_type: str = "person"):
        """A report where ``count`` more kept records were dropped for ``reason``."""
        if count == 0:
            return self
        rows = pd.DataFrame(
            [(source, record_type, "dropped", reason, int(count)), (source, record_type, "kept", "", -int(count))],
            columns=self.entries.columns,
        )
        return RecordReport(pd.concat([self.entries, rows], ignore_index=True))

    def _total(self, outcome: str, record_type: str) -> int:
        e = self.entries
        return int(e.loc[(e["outcome"] == outcome) & (e["record_type"] == record_type), "count"].sum())

    @property
    def read(self) -> int:
        """Person (or unit) records read from all sources."""
        return self._total("read", self._main_type())

    @property
    def kept(self) -> int:
        """Records kept in the harmonized frame."""
        return self._total("kept", self._main_type())

    @property
    def dropped(self) -> dict[str, int]:
        """Records dropped, by reason."""
        e = self.entries
        e = e[(e["outcome"] == "dropped") & (e["record_type"] == self._main_type())]
        return {str(k): int(v) for k, v in e.groupby("reason", sort=True)["count"].sum().items()}

    def _main_type(self) -> str:
        types = set(self.entries["record_type"])
        return "person" if "person" in types or not types else sorted(types)[0]

    def to_frame(self) -> pd.DataFrame:
        """Counts by source, record type, outcome and reason."""
        return self.entries.groupby(["source", "record_type", "outcome", "reason"], sort=False, as_index=False)[
            "count"
        ].sum()

    def __str__(self) -> str:
        lines = [f"records read {self.read:,}, kept {self.kept:,}"]
        lines += [f"  dropped {n:,}: {reason}" for reason, n in self.dropped.items()]
        notes = self.entries[self.entries["outcome"] == "note"].groupby(["record_type", "reason"])["count"].sum()
        lines += [f"  note {int(n):,} {kind} records: {reason}" for (kind, reason), n in notes.items()]
        return "\n".join(lines)


_REPLICATE_PATTERN = re.compile(r"^(?P<prefix>[A-Za-z_]+?)(?P<number>[0-9]+)$")


def find_replicate_columns(columns: Iterable[str], prefix: str) -> list[str]:
    """Replicate-weight columns ``prefix1..prefix80`` in ``columns``, any case, in order.

    Examples
    --------
    >>> find_replicate_columns(["PWGTP", "pwgtp2", "pwgtp1", "WGTP1"], "PWGTP")
    ['pwgtp1', 'pwgtp2']
    """
    found = {}
    for name in columns:
        match = _REPLICATE_PATTERN.match(str(name))
        if match and match["prefix"].lower() == prefix.lower():
            found[int(match["number"])] = name
    return [found[k] for k in sorted(found)]


def check_weights(
    values: np.ndarray, *, source: str, columns: Sequence[str], what: str, allow_negative: bool = False
) -> int:
    """Raise :class:`InvalidWeightError` for missing (or, unless allowed, negative) weights.

    ``values`` is 1-D (one column) or 2-D (one column per name in ``columns``).
    Full-sample weights must be >= 0. ACS *replicate* weights can genuinely be
    negative (e.g. 16 values in one record of the 2015 Washington housing
    file), so readers pass ``allow_negative=True`` for them; the number of
    negative values is returned so it can be reported.

    Examples
    --------
    >>> check_weights(np.array([[1.0, -2.0], [3.0, 4.0]]), source="p.csv", columns=["PWGTP", "PWGTP1"],
    ...               what="Full-sample weights")
    Traceback (most recent call last):
    ...
    scorecard.errors.InvalidWeightError: p.csv: column PWGTP1 has 1 negative values (rows 0). Full-sample weights must be >= 0 and present for every record; was the file edited or truncated?
    >>> check_weights(np.array([[1.0, -2.0]]), source="p.csv", columns=["a", "b"], what="Replicate weights",
    ...               allow_negative=True)
    1
    """
    matrix = values.reshape(len(values), -1)
    checks = [("missing", ~np.isfinite(matrix))]
    if not allow_negative:
        checks.append(("negative", matrix < 0))
    for kind, bad in checks:
        if bad.any():
            rows, cols = np.nonzero(bad)
            column = columns[cols[0]]
            count = int(bad[:, cols[0]].sum())
            shown = ", ".join(str(r) for r in rows[cols == cols[0]][:5])
            must = "present for every record" if allow_negative else ">= 0 and present for every record"
            raise InvalidWeightError(
                f"{source}: column {column} has {count} {kind} values (rows {shown}). "
                f"{what} must be {must}; was the file edited or truncated?"
            )
    return int((matrix < 0).sum())


@dataclass(frozen=True, slots=True)
class ReplicateProfile:
    """What estimation may assume about a replicate-weight matrix: whether every value is an integer, and its range.

    ACS replicate weights are integers, so sums of up to 2**24 / max|w| of
    them are exact in float32 (see :mod:`scorecard.estimation.sums`); the
    rare negative replicate weights matter to medians.
    """

    integral: bool
    lowest: float
    highest: float

    @property
    def largest_magnitude(self) -> float:
        return max(abs(self.lowest), abs(self.highest))

    @property
    def nonnegative(self) -> bool:
        return bool(self.lowest >= 0)


#: Rows per block when profiling a replicate matrix (about 320 KB of float32: stays in the core's L2 cache).
_PROFILE_BLOCK = 1024


def profile_replicates(matrix: np.ndarray) -> ReplicateProfile:
    """Profile a replicate-weight matrix in one read, in cache-sized blocks of rows.

    Missing values (NaN) make the profile non-integral with a NaN range.

    Examples
    --------
    >>> profile_replicates(np.array([[1.0, -2.0], [3.0, 40.0]], dtype=np.float32))
    ReplicateProfile(integral=True, lowest=-2.0, highest=40.0)
    >>> profile_replicates(np.array([[1.5]], dtype=np.float32)).integral
    False
    """
    if matrix.size == 0:
        return ReplicateProfile(True, 0.0, 0.0)
    rounded = np.empty((min(_PROFILE_BLOCK, len(matrix)),) + matrix.shape[1:], dtype=matrix.dtype)
    differs = np.empty(rounded.shape, dtype=bool)
    integral, lowest, highest = True, np.inf, -np.inf
    for start in range(0, len(matrix), _PROFILE_BLOCK):  # row blocks, for cache locality; vectorized inside
        part = matrix[start : start + _PROFILE_BLOCK]
        n = len(part)
        if integral:
            np.rint(part, out=rounded[:n])
            integral = not np.not_equal(rounded[:n], part, out=differs[:n]).any()
        low, high = float(part.min()), float(part.max())
        if np.isnan(low) or np.isnan(high):
            return ReplicateProfile(False, np.nan, np.nan)
        lowest, highest = min(lowest, low), max(highest, high)
    return ReplicateProfile(integral, lowest, highest)


@dataclass(frozen=True, eq=False)
class Microdata:
    """Harmonized person records with their weights and provenance.

    Build it with a reader (:func:`scorecard.read_acs_pums`,
    :func:`scorecard.read_ipums`) or :meth:`from_frame`; do not mutate it.
    """

    frame: pd.DataFrame
    person_replicates: np.ndarray | None = None
    household_replicates: np.ndarray | None = None
    report: RecordReport = field(default_factory=RecordReport)
    attrs: Mapping[str, object] = field(default_factory=dict)
    _profiles: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        source = str(self.attrs.get("source", "microdata"))
        schema.require(
            self.frame,
            schema.REQUIRED,
            source=source,
            hint="Every Microdata needs these harmonized columns; map them in the reader or from_frame().",
        )
        if not any(c in self.frame.columns for c in schema.WEIGHT_COLUMNS):
            raise MissingColumnsError(
                source, {"person_weight"}, "Map the full-sample weight (PWGTP / PERWT, or WGTP / HHWT for housing files)."
            )
        for name in ("person_replicates", "household_replicates"):
            matrix = getattr(self, name)
            if matrix is None:
                continue
            if matrix.ndim != 2 or matrix.shape[0] != len(self.frame) or matrix.shape[1] != schema.N_REPLICATES:
                raise ReplicateCountError(
                    f"{source}: {name} has shape {matrix.shape}; expected ({len(self.frame)}, {schema.N_REPLICATES}) "
                    "(one row per record, 80 replicate weights)."
                )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        mapping: Mapping[str, str | Callable[[pd.DataFrame], object]] | None = None,
        *,
        person_replicates: str | Sequence[str] | None = None,
        household_replicates: str | Sequence[str] | None = None,
        defaults: Mapping[str, object] | None = None,
        keep: Sequence[str] = (),
        source: str = "frame",
        attrs: Mapping[str, object] | None = None,
    ) -> Microdata:
        """Harmonize any table already in harmonized categories.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per person (or per housing unit for housing-only data).
        mapping : mapping, optional
            Harmonized column name -> source column name, or -> callable that
            takes ``frame`` and returns the harmonized values (use this to
            recode). Columns already named as in the schema map themselves.
        person_replicates, household_replicates : str or sequence of str, optional
            The 80 replicate-weight columns, either listed or as a prefix such
            as ``"PWGTP"`` (matched case-insensitively to ``PWGTP1..PWGTP80``).
        defaults : mapping, optional
            Constant values for harmonized columns the table lacks (e.g.
            ``{"puma_vintage": 2010}``).
        keep : sequence of str
            Extra (non-schema) source columns to carry along unchanged, for
            researchers' own indicators.
        source : str
            Name used in error messages and the record report.
        attrs : mapping, optional
            Provenance (``survey``, ``dollars_year``, ...).

        Returns
        -------
        Microdata
        """
        mapping = dict(mapping or {})
        for name in schema.COLUMNS:
            if name not in mapping and name in frame.columns:
                mapping[name] = name
        missing_sources = {v for v in mapping.values() if isinstance(v, str) and v not in frame.columns}
        missing_sources |= {c for c in keep if c not in frame.columns}
        if missing_sources:
            raise MissingColumnsError(source, missing_sources, "Check the mapping passed to Microdata.from_frame().")
        data = {}
        for name, how in mapping.items():
            values = how(frame) if callable(how) else frame[how]
            data[name] = pd.Series(np.asarray(values) if not isinstance(values, pd.Series) else values.to_numpy(),
                                   index=frame.index)
        for name, value in (defaults or {}).items():
            data.setdefault(name, pd.Series([value] * len(frame), index=frame.index))
        for name in keep:
            data[name] = frame[name]
        harmonized = schema.coerce(pd.DataFrame(data, index=frame.index), source=source).reset_index(drop=True)
        check_ranges(harmonized, source="frame", name=source)
        for weight in schema.WEIGHT_COLUMNS:
            if weight in harmonized:
                check_weights(harmonized[weight].to_numpy(dtype="float64", na_value=np.nan),
                              source=source, columns=[str(mapping.get(weight, weight))], what="Full-sample weights")
        matrices = {
            name: _replicate_matrix(frame, spec, source=source)
            for name, spec in (("person_replicates", person_replicates), ("household_replicates", household_replicates))
        }
        report = RecordReport.single(source, read=len(frame))
        return cls(harmonized, report=report, attrs={"source": source, **(attrs or {})}, **matrices)

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        years = sorted(pd.unique(self.frame["survey_year"].dropna()).tolist())
        sources = self.attrs.get("sources") or [self.attrs.get("source", "?")]
        shown = f"{sources[0]}" + (f" and {len(sources) - 1} more files" if len(sources) > 1 else "")
        return f"<Microdata {len(self):,} records, survey years {years}, variance {self.variance_method}, from {shown}>"

    @property
    def variance_method(self) -> str:
        """``"sdr"`` (replicate weights), ``"linearization"`` (strata/cluster) or ``"none"``."""
        if self.person_replicates is not None or self.household_replicates is not None:
            return "sdr"
        if all(c in self.frame.columns for c in schema.DESIGN_COLUMNS):
            return "linearization"
        return "none"

    @property
    def negative_replicate_weights(self) -> dict[str, int]:
        """Records with at least one negative replicate weight, by weight kind.

        They are genuine in ACS files (the Census weighting can push a replicate
        below zero), so they are kept and used as published; this count makes
        them visible.
        """
        return {
            kind: int((matrix < 0).any(axis=1).sum())
            for kind, matrix in (("person", self.person_replicates), ("household", self.household_replicates))
            if matrix is not None
        }

    @property
    def dollars_year(self) -> int | None:
        """Year of the constant dollars income columns are expressed in."""
        value = self.attrs.get("dollars_year")
        return None if value is None else int(value)

    def weights(self, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Full-sample weights (float64) and replicate matrix for ``"person"`` or ``"household"``."""
        column = f"{kind}_weight"
        if column not in self.frame.columns:
            raise MissingColumnsError(
                str(self.attrs.get("source", "microdata")), {column}, f"This microdata has no {kind} weight."
            )
        full = self.frame[column].to_numpy(dtype="float64", na_value=np.nan)
        return full, getattr(self, f"{kind}_replicates")

    def replicate_profile(self, kind: str) -> ReplicateProfile | None:
        """:class:`ReplicateProfile` of the ``"person"`` or ``"household"`` replicate weights (None without them).

        Computed on first use and kept: a Microdata is not mutated.
        """
        matrix = getattr(self, f"{kind}_replicates")
        if matrix is None:
            return None
        if kind not in self._profiles:
            self._profiles[kind] = profile_replicates(matrix)
        return self._profiles[kind]

    # ------------------------------------------------------------------ derivation
    def take(self, rows: np.ndarray) -> Microdata:
        """Records at integer positions ``rows`` (a permutation, subset or chunk).

        The report is carried over unchanged; use :meth:`drop` to exclude
        records with a counted reason.
        """
        rows = np.asarray(rows)
        return replace(
            self,
            frame=self.frame.iloc[rows].reset_index(drop=True),
            person_replicates=None if self.person_replicates is None else self.person_replicates[rows],
            household_replicates=None if self.household_replicates is None else self.household_replicates[rows],
        )

    def drop(self, mask: np.ndarray, reason: str) -> Microdata:
        """Records where ``mask`` is False, counting the rest as dropped for ``reason``."""
        mask = np.asarray(mask, dtype=bool)
        kept = self.take(np.flatnonzero(~mask))
        return replace(kept, report=self.report.with_drop(reason, int(mask.sum())))

    def chunks(self, size: int) -> Iterable[Microdata]:
        """Consecutive pieces of at most ``size`` records."""
        for start in range(0, len(self), size):
            yield self.take(np.arange(start, min(start + size, len(self))))

    @classmethod
    def concat(cls, pieces: Sequence[Microdata]) -> Microdata:
        """Stack microdata from several files (e.g. states or years) into one.

        Raises :class:`MismatchedSourcesError` if some pieces have replicate
        weights and others do not, or if their dollar years differ, and
        :class:`DuplicateRecordError` if a piece is passed twice or two pieces
        hold the same person (survey year, state, household and person id).
        """
        if not pieces:
            raise MismatchedSourcesError("Microdata.concat needs at least one piece; got none.")
        dollars = {p.attrs.get("dollars_year") for p in pieces}
        if len(dollars) > 1:
            raise MismatchedSourcesError(
                f"Cannot stack microdata in different constant dollars {sorted(map(str, dollars))}; "
                "read them with the same dollars_year."
            )
        _refuse_repeated_records(pieces)
        matrices = {}
        for name in ("person_replicates", "household_replicates"):
            present = [getattr(p, name) is not None for p in pieces]
            if any(present) and not all(present):
                raise MismatchedSourcesError(
                    f"Cannot stack microdata where only some pieces have {name}; "
                    f"sources {[p.attrs.get('source') for p in pieces]}."
                )
            matrices[name] = np.concatenate([getattr(p, name) for p in pieces]) if all(present) else None
        frame = pd.concat([p.frame for p in pieces], ignore_index=True)
        frame = schema.coerce(frame, source="concat")
        sources = [s for p in pieces for s in (p.attrs.get("sources") or [p.attrs.get("source")])]
        attrs = {**pieces[0].attrs, "sources": sources, "source": ", ".join(map(str, sources[:3]))}
        report = pieces[0].report.combine(*(p.report for p in pieces[1:]))
        return cls(frame, report=report, attrs=attrs, **matrices)


def _refuse_repeated_records(pieces: Sequence[Microdata]) -> None:
    names = [str(p.attrs.get("source", f"piece {i}")) for i, p in enumerate(pieces)]
    seen: dict[int, int] = {}
    for index, piece in enumerate(pieces):  # pieces, not records
        if id(piece) in seen:
            raise DuplicateRecordError(
                f"Microdata.concat got {names[index]} twice (pieces {seen[id(piece)]} and {index}); its records would "
                "count twice. Pass each piece once."
            )
        seen[id(piece)] = index
    key = ["survey_year", "state", "household_id", "person_id"]
    if len(pieces) < 2 or not all(set(key) <= set(p.frame.columns) for p in pieces):
        return
    keys = pd.concat([p.frame[key].assign(_piece=i).drop_duplicates(key) for i, p in enumerate(pieces)], ignore_index=True)
    repeated = keys.duplicated(key, keep=False).to_numpy()
    if repeated.any():
        shared = keys[repeated]
        files = sorted({names[i] for i in shared["_piece"].unique()})
        first = shared.iloc[0]
        raise DuplicateRecordError(
            f"{' and '.join(files)} hold the same {int(repeated.sum()) // 2} persons (e.g. household "
            f"{first['household_id']!r}, person {first['person_id']}, {first['survey_year']}); their records would "
            "count twice. Pass each file once."
        )


def _replicate_matrix(frame: pd.DataFrame, spec: str | Sequence[str] | None, *, source: str) -> np.ndarray | None:
    if spec is None:
        return None
    columns = find_replicate_columns(frame.columns, spec) if isinstance(spec, str) else list(spec)
    if len(columns) not in (0, schema.N_REPLICATES):
        raise ReplicateCountError(
            f"{source}: found {len(columns)} replicate-weight columns {columns[:3]}...; expected 0 or "
            f"{schema.N_REPLICATES}. Include all 80 replicate weights or none."
        )
    if not columns:
        return None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(source, set(missing), "List existing replicate-weight columns.")
    matrix = frame[columns].to_numpy(dtype="float64", na_value=np.nan)
    check_weights(matrix, source=source, columns=columns, what="Replicate weights", allow_negative=True)
    return matrix.astype(np.float32)
