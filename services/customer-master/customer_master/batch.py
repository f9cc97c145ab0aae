"""``crm dedupe`` file handling: read JSONL / CSV / XLSX, validate rows, run the engine, write OUT and SUG.

INPUT has one record a line (JSONL) or a row under a header (CSV; XLSX: the first sheet,
read-only, its first row the header; line numbers are sheet row numbers) with any of the columns
in :data:`~customer_master.domain.dedupe.FIELDS`; ``record_id`` is required and unique.
A malformed row is reported as ``FILE:LINE: problem`` and skipped, never silently dropped;
an unknown header column makes the whole file unusable (:class:`InputError`).

OUT: one JSON line per accepted record, in input order:
``{"record_id", "customer_id", "account_id" (null for a consumer or junk), "junk"}``.
SUG: one JSON line per review-band pair of clusters:
``{"kind", "record_ids", "cluster_ids", "score", "evidence": [{"rule", "weight", "detail"}]}``.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from customer_master.domain.dedupe import FIELDS, Progress, Result, SourceRecord, Suggestion, resolve_prepared
from customer_master.domain.matching import MatchRecord

KNOWN = frozenset(FIELDS)
PARALLEL_FROM = 20_000
"""Inputs at least this large are normalised in worker processes (normalising dominates the run)."""
CHUNK = 5_000


class InputError(ValueError):
    """The input cannot be read at all (missing file, unknown format, bad header, bad encoding)."""


@dataclass(frozen=True)
class RowError:
    """One rejected row: where and why."""

    source: str
    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        where = f" column {self.column!r}:" if self.column else ""
        return f"{self.source}:{self.line}:{where} {self.message}"


@dataclass
class Loaded:
    """The accepted records (with their line numbers) and the rejected rows."""

    records: list[SourceRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _value(raw: Any) -> str | None:
    """A cell as text; None when its type cannot be a field value."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str | int):
        return str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return None


def _record(source: str, line: int, row: dict[str, Any], seen: set[str]) -> SourceRecord | RowError:
    """Validate one row's mapping into a :class:`SourceRecord`."""
    for column in row:
        if column not in KNOWN:
            return RowError(source, line, f"unknown column; known: {', '.join(FIELDS)}", column)
    values: dict[str, str] = {}
    for column, raw in row.items():
        text = _value(raw)
        if text is None:
            return RowError(source, line, f"expected text or a number, got {type(raw).__name__}", column)
        values[column] = text
    record_id = values.get("record_id", "")
    if not record_id:
        return RowError(source, line, "record_id is required", "record_id")
    if record_id in seen:
        return RowError(source, line, f"duplicate record_id {record_id!r}", "record_id")
    seen.add(record_id)
    return SourceRecord(**values)


def _jsonl_rows(source: str, handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for line, text in enumerate(handle, 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, RowError(source, line, f"not valid JSON: {exc.msg} at character {exc.pos + 1}")
            continue
        if not isinstance(row, dict):
            yield line, RowError(source, line, f"expected a JSON object, got {type(row).__name__}")
            continue
        yield line, row


def _header(source: str, header: Sequence[Any]) -> list[str]:
    """The column names of a header row; raises :class:`InputError` when it is unusable."""
    columns = ["" if name is None else str(name).strip() for name in header]
    while columns and not columns[-1]:  # a sheet's trailing empty header cells
        columns.pop()
    for column in columns:
        if column not in KNOWN:
            raise InputError(f"{source}:1: column {column!r}: unknown column; known: {', '.join(FIELDS)}")
    if "record_id" not in columns:
        raise InputError(f"{source}:1: no record_id column")
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise InputError(f"{source}:1: column {twice[0]!r} appears more than once")
    return columns


def _csv_rows(source: str, handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    columns = _header(source, header)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(source, start, f"unreadable CSV: {exc}")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield start, RowError(source, start, f"expected {len(columns)} cells, got {len(cells)}")
            continue
        yield start, dict(zip(columns, cells, strict=True))


def _xlsx_rows(source: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The first sheet's rows under its header row, by sheet row number."""
    import zipfile

    import openpyxl  # type: ignore[import-untyped]

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{source}: not a readable XLSX workbook ({exc})") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        columns = _header(source, header)
        for number, cells in enumerate(rows, 2):
            if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
                continue
            extra = [cell for cell in cells[len(columns) :] if cell is not None and str(cell).strip()]
            if extra:
                yield number, RowError(source, number, f"{len(extra)} cell(s) beyond the {len(columns)} named columns")
                continue
            padded = list(cells[: len(columns)]) + [None] * (len(columns) - len(cells))
            yield number, dict(zip(columns, padded, strict=True))
    finally:
        workbook.close()


def input_format(path: Path) -> str:
    """'jsonl', 'csv' or 'xlsx' from the file name; others (and Excel 97 .xls) are refused with a reason."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xls":
        raise InputError(f"{path}: Excel 97 .xls is not supported; save it as .xlsx or CSV")
    raise InputError(f"{path}: unknown input format {suffix or '(no suffix)'!r}; use .jsonl, .csv or .xlsx")


def load(path: Path, *, encoding: str = "utf-8-sig") -> Loaded:
    """Read and validate every row of ``path``; rows that fail are collected, not raised."""
    kind = input_format(path)
    source = str(path)
    loaded = Loaded()
    seen: set[str] = set()

    def accept(rows: Iterator[tuple[int, dict[str, Any] | RowError]]) -> None:
        for line, row in rows:
            outcome = row if isinstance(row, RowError) else _record(source, line, row, seen)
            if isinstance(outcome, RowError):
                loaded.errors.append(outcome)
            else:
                loaded.records.append(outcome)
                loaded.lines.append(line)

    try:
        if kind == "xlsx":
            if not path.is_file():
                raise InputError(f"{source}: cannot read: no such file")
            accept(_xlsx_rows(source, path))
            return loaded
        with path.open(encoding=encoding, newline="" if kind == "csv" else None) as handle:
            accept(_csv_rows(source, handle) if kind == "csv" else _jsonl_rows(source, handle))
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not {encoding} text ({exc.reason}); pass --encoding, e.g. gb18030") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror or exc}") from None
    return loaded


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    """One SUG line."""
    return {
        "kind": suggestion.kind,
        "record_ids": list(suggestion.record_ids),
        "cluster_ids": list(suggestion.cluster_ids),
        "score": round(suggestion.score, 6),
        "evidence": [{"rule": e.rule, "weight": e.weight, "detail": e.detail} for e in suggestion.evidence],
    }


def write(result: Result, out: Path, suggestions: Path | None = None) -> None:
    """Write OUT (input order) and, if asked, SUG."""
    with out.open("w", encoding="utf-8") as handle:
        for item in result.assignments:
            row = {
                "record_id": item.record_id,
                "customer_id": item.customer_id,
                "account_id": item.account_id,
                "junk": item.junk,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if suggestions is not None:
        with suggestions.open("w", encoding="utf-8") as handle:
            for suggestion in result.suggestions:
                handle.write(json.dumps(suggestion_json(suggestion), ensure_ascii=False) + "\n")


def _prepare_chunk(chunk: list[SourceRecord]) -> list[MatchRecord]:
    return [record.prepared() for record in chunk]


def normalise(
    records: list[SourceRecord], *, workers: int | None = None, progress: Progress | None = None
) -> list[MatchRecord]:
    """Every record's normalised form, in order; in ``workers`` processes for large inputs."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    chunks = [records[start : start + CHUNK] for start in range(0, len(records), CHUNK)]
    forms: list[MatchRecord] = []
    if workers <= 1 or len(records) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        results: Iterator[list[MatchRecord]] = map(_prepare_chunk, chunks)
        for chunk in results:
            forms.extend(chunk)
            if progress is not None:
                progress("normalise", len(forms), len(records))
        return forms
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for chunk in pool.map(_prepare_chunk, chunks):
            forms.extend(chunk)
            if progress is not None:
                progress("normalise", len(forms), len(records))
    return forms


@dataclass
class Outcome:
    """What :func:`dedupe_file` did."""

    result: Result
    errors: list[RowError]


def dedupe_file(
    path: Path,
    out: Path,
    suggestions: Path | None = None,
    *,
    encoding: str = "utf-8-sig",
    progress: Progress | None = None,
    workers: int | None = None,
) -> Outcome:
    """Load, resolve and write; raises :class:`InputError` when the input cannot be read at all."""
    loaded = load(path, encoding=encoding)
    forms = normalise(loaded.records, workers=workers, progress=progress)
    result = resolve_prepared([record.record_id for record in loaded.records], forms, progress)
    write(result, out, suggestions)
    return Outcome(result=result, errors=loaded.errors)
