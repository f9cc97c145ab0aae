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

Large inputs (:data:`PARALLEL_FROM` rows and more, where ``fork`` exists) are parsed, validated
and normalised in ``workers`` processes, a part of about :data:`CHUNK` lines each (a UTF-8
JSONL file is handed out as byte spans each worker reads itself); duplicate record_ids are
caught in the parent in input order, so errors and results are those of :func:`load` +
:func:`normalise`. The account pass's comparisons then run in one forked process while this
one clusters the customers. The cyclic garbage collector is paused for a run.
"""

from __future__ import annotations

import codecs
import csv
import gc
import json
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from json.encoder import encode_basestring
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, TypeVar

from customer_master.domain.dedupe import (
    FIELDS,
    Assignments,
    Progress,
    Result,
    SourceRecord,
    Suggestion,
    resolve_flat,
)
from customer_master.domain.matching import FlatRecord, MatchRecord, prepare_flat

KNOWN = frozenset(FIELDS)
PARALLEL_FROM = 20_000
"""Inputs at least this large are normalised in worker processes (normalising dominates the run)."""
CHUNK = 5_000
WRITE_BATCH = 10_000


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
    """A cell as text; None when its type cannot be a field value.

    An Excel date cell (a ``datetime``, as openpyxl reads it) becomes ISO text with no offset:
    its date alone at midnight, else date and time (``crm import`` reads it as China time).
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str | int):
        return str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, date):
        return _date_text(raw)
    return None


def _date_text(value: date) -> str:
    """An Excel date cell as ISO text: the date alone when it is a day (or midnight), else date and time."""
    if isinstance(value, datetime) and value.time() != time():
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return value.isoformat()[:10]


def _validated(source: str, line: int, row: dict[str, Any]) -> dict[str, str] | RowError:
    """One row's mapping checked and as text (all but the duplicate check, which needs every earlier row)."""
    if not KNOWN.issuperset(row):
        column = next(column for column in row if column not in KNOWN)
        return RowError(source, line, f"unknown column; known: {', '.join(FIELDS)}", column)
    values: dict[str, str] = {}
    for column, raw in row.items():
        if type(raw) is str:  # the usual cell: no need to ask what it is
            values[column] = raw.strip()
            continue
        text = _value(raw)
        if text is None:
            return RowError(source, line, f"expected text or a number, got {type(raw).__name__}", column)
        values[column] = text
    if not values.get("record_id", ""):
        return RowError(source, line, "record_id is required", "record_id")
    return values


def _duplicate(source: str, line: int, record_id: str) -> RowError:
    return RowError(source, line, f"duplicate record_id {record_id!r}", "record_id")


def _record(source: str, line: int, row: dict[str, Any], seen: set[str]) -> SourceRecord | RowError:
    """Validate one row's mapping into a :class:`SourceRecord`."""
    values = _validated(source, line, row)
    if isinstance(values, RowError):
        return values
    record_id = values["record_id"]
    if record_id in seen:
        return _duplicate(source, line, record_id)
    seen.add(record_id)
    return SourceRecord(**values)


_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
# json.decoder.WHITESPACE; it matches everywhere (maybe nothing), so its match is never None.
_SPACE: Callable[[str, int], re.Match[str]] = re.compile(r"[ \t\n\r]*").match  # type: ignore[assignment]


def _loads(text: str) -> Any:
    """``json.loads(text)`` (the same value or the same error) for a str, without its layers of calls."""
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    start = _SPACE(text, 0).end()
    try:
        value, end = _SCAN(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    end = _SPACE(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _json_row(source: str, line: int, text: str) -> dict[str, Any] | RowError | None:
    """One JSONL line as an object; None for a blank line."""
    if not text.strip():
        return None
    try:
        row = _loads(text)
    except json.JSONDecodeError as exc:
        return RowError(source, line, f"not valid JSON: {exc.msg} at character {exc.pos + 1}")
    if not isinstance(row, dict):
        return RowError(source, line, f"expected a JSON object, got {type(row).__name__}")
    return row


def _jsonl_rows(source: str, handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for line, text in enumerate(handle, 1):
        row = _json_row(source, line, text)
        if row is not None:
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


@contextmanager
def _reading(source: str, encoding: str) -> Iterator[None]:
    """Turn decoding and file errors while reading ``source`` into :class:`InputError`."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not {encoding} text ({exc.reason}); pass --encoding, e.g. gb18030") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror or exc}") from None


def _no_such_xlsx(source: str, path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{source}: cannot read: no such file")


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

    with _reading(source, encoding):
        if kind == "xlsx":
            _no_such_xlsx(source, path)
            accept(_xlsx_rows(source, path))
            return loaded
        with path.open(encoding=encoding, newline="" if kind == "csv" else None) as handle:
            accept(_csv_rows(source, handle) if kind == "csv" else _jsonl_rows(source, handle))
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
    quote = encode_basestring  # what json.dumps(..., ensure_ascii=False) writes for a str
    assignments = result.assignments
    # (record_id, customer_id, account_id, junk: true when truthy)
    rows: Iterator[tuple[str, str, str | None, bool | tuple[str, ...]]] = (
        assignments.rows()
        if isinstance(assignments, Assignments)
        else ((a.record_id, a.customer_id, a.account_id, a.junk) for a in assignments)
    )
    with out.open("w", encoding="utf-8") as handle:
        while batch := list(islice(rows, WRITE_BATCH)):
            # The line json.dumps({"record_id", "customer_id", "account_id", "junk"}) writes, built directly.
            handle.writelines(
                f'{{"record_id": {quote(record_id)}, "customer_id": {quote(customer_id)}, '
                f'"account_id": {"null" if account_id is None else quote(account_id)}, '
                f'"junk": {"true" if junk else "false"}}}\n'
                for record_id, customer_id, account_id, junk in batch
            )
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


@dataclass(frozen=True)
class _Span:
    """Lines ``first`` … ``first + count - 1`` of a UTF-8 JSONL file without carriage returns:
    ``size`` bytes from ``start``. A worker reads and decodes them itself."""

    path: str
    start: int
    size: int
    first: int
    count: int
    encoding: str

    def lines(self) -> list[str]:
        """The span's lines as text-mode reading gives them (each with its newline; the file's last may lack one)."""
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            data = handle.read(self.size)
        pieces = data.decode(self.encoding).split("\n")
        last = pieces.pop()
        lines = [piece + "\n" for piece in pieces]
        if last:
            lines.append(last)
        return lines


# Work for one normalising task: a span of a JSONL file, (first line number, JSONL lines), or the
# (line, row) pairs of a CSV/XLSX.
_Part = _Span | tuple[int, list[str]] | list[tuple[int, dict[str, Any] | RowError]]


def _spans(path: Path, encoding: str) -> tuple[list[_Part], int] | None:
    """A UTF-8 JSONL file in spans of about :data:`CHUNK` lines, and its number of lines; None for
    another encoding or a file with a carriage return (text mode's universal newlines: read it as text)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return None
    if codec not in ("utf-8", "utf-8-sig"):
        return None
    data = path.read_bytes()
    if b"\r" in data:
        return None
    total = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    step = max(1, len(data) * CHUNK // max(1, total))
    parts: list[_Part] = []
    start, first = 0, 1
    while start < len(data):
        newline = data.find(b"\n", min(len(data), start + step) - 1)
        end = len(data) if newline < 0 else newline + 1
        count = data.count(b"\n", start, end) + (1 if newline < 0 else 0)
        # Only the first span can open with the byte order mark utf-8-sig drops.
        parts.append(_Span(str(path), start, end - start, first, count, codec if start == 0 else "utf-8"))
        start, first = end, first + count
    return parts, total


def _read_parts(path: Path, source: str, encoding: str) -> tuple[list[_Part], int]:
    """The input in parts of about :data:`CHUNK` lines or rows, and how many lines or rows there are in all."""
    kind = input_format(path)
    with _reading(source, encoding):
        if kind == "jsonl":
            if spans := _spans(path, encoding):
                return spans
            with path.open(encoding=encoding) as handle:
                texts = handle.readlines()
            parts: list[_Part] = [(start + 1, texts[start : start + CHUNK]) for start in range(0, len(texts), CHUNK)]
            return parts, len(texts)
        if kind == "xlsx":
            _no_such_xlsx(source, path)
            rows = list(_xlsx_rows(source, path))
        else:
            with path.open(encoding=encoding, newline="") as handle:
                rows = list(_csv_rows(source, handle))
    return [rows[start : start + CHUNK] for start in range(0, len(rows), CHUNK)], len(rows)


def _part_size(part: _Part) -> int:
    if isinstance(part, _Span):
        return part.count
    return len(part[1]) if isinstance(part, tuple) else len(part)


class _Done:
    """One part's outcome, by column (cheap to pickle): the accepted rows' lines, record_ids and forms,
    and the rejected rows."""

    __slots__ = ("errors", "forms", "lines", "record_ids")

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.record_ids: list[str] = []
        self.forms: list[FlatRecord] = []
        self.errors: list[RowError] = []

    def __getstate__(self) -> tuple[list[int], list[str], list[FlatRecord], list[RowError]]:
        return self.lines, self.record_ids, self.forms, self.errors

    def __setstate__(self, state: tuple[list[int], list[str], list[FlatRecord], list[RowError]]) -> None:
        self.lines, self.record_ids, self.forms, self.errors = state

    def add(self, source: str, line: int, row: dict[str, Any] | RowError) -> None:
        """Validate and normalise one row (all checks but the duplicate record_id)."""
        if isinstance(row, RowError):
            self.errors.append(row)
            return
        values = _validated(source, line, row)
        if isinstance(values, RowError):
            self.errors.append(values)
            return
        get = values.get
        self.forms.append(
            prepare_flat(
                name=get("name", ""),
                phone=get("phone", ""),
                email=get("email", ""),
                company=get("company", ""),
                credit_code=get("credit_code", ""),
                unionid=get("unionid", ""),
                wecom_external_userid=get("wecom_external_userid", ""),
                region=get("region", ""),
            )
        )
        self.lines.append(line)
        self.record_ids.append(values["record_id"])


def _prepare_part(source: str, part: _Part) -> _Done:
    """Parse (JSONL), validate and normalise one part; runs in a worker process for large inputs."""
    done = _Done()
    if isinstance(part, _Span | tuple):
        first, texts = (part.first, part.lines()) if isinstance(part, _Span) else part
        for line, text in enumerate(texts, first):
            row = _json_row(source, line, text)
            if row is not None:
                done.add(source, line, row)
    else:
        for line, row in part:
            done.add(source, line, row)
    return done


def _prepared_parts(
    source: str, parts: list[_Part], total: int, workers: int | None, progress: Progress | None
) -> Iterator[_Done]:
    """:func:`_prepare_part` of every part, in order; in ``workers`` processes for large inputs, a few
    parts ahead of the caller (so memory holds a few parts in flight, not the whole input twice)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    queue = deque(parts)
    parts.clear()
    done = 0
    if not _forks(workers, total):
        while queue:
            part = queue.popleft()
            yield _prepare_part(source, part)
            done += _part_size(part)
            if progress is not None:
                progress("normalise", done, total)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[tuple[Future[_Done], int]] = deque()
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                part = queue.popleft()
                pending.append((pool.submit(_prepare_part, source, part), _part_size(part)))
            future, size = pending.popleft()
            yield future.result()
            done += size
            if progress is not None:
                progress("normalise", done, total)


@dataclass
class Prepared:
    """The accepted records' ids and normalised forms (in input order) and the rejected rows (in line order)."""

    record_ids: list[str] = field(default_factory=list)
    forms: list[FlatRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def prepare_file(
    path: Path, *, encoding: str = "utf-8-sig", workers: int | None = None, progress: Progress | None = None
) -> Prepared:
    """:func:`load` and normalise in one pass: parsing, validating and normalising run in ``workers``
    processes for large inputs; duplicate record_ids are caught here, in input order, as :func:`load` does."""
    source = str(path)
    parts, total = _read_parts(path, source, encoding)
    prepared = Prepared()
    record_ids, forms, errors = prepared.record_ids, prepared.forms, prepared.errors
    seen: set[str] = set()
    duplicates = False
    with _reading(source, encoding):  # a worker decoding its span of the file can meet bad bytes
        for done in _prepared_parts(source, parts, total, workers, progress):
            errors.extend(done.errors)
            if seen.isdisjoint(done.record_ids) and len(set(done.record_ids)) == len(done.record_ids):
                seen.update(done.record_ids)  # the usual part: no record_id seen before
                record_ids.extend(done.record_ids)
                forms.extend(done.forms)
                continue
            duplicates = True
            for line, record_id, form in zip(done.lines, done.record_ids, done.forms, strict=True):
                if record_id in seen:
                    errors.append(_duplicate(source, line, record_id))
                    continue
                seen.add(record_id)
                record_ids.append(record_id)
                forms.append(form)
    if duplicates:
        errors.sort(key=lambda error: error.line)  # a part's own errors, then its duplicates: back to line order
    return prepared


_T = TypeVar("_T")


def _send(work: Callable[[], object], connection: Connection) -> None:
    """In the forked process: run ``work`` and send back (True, its result) or (False, its exception)."""
    try:
        outcome: tuple[bool, object] = (True, work())
    except BaseException as exc:  # noqa: BLE001  # handed to the parent, which raises it
        outcome = (False, exc)
    connection.send(outcome)
    connection.close()


def _run_forked(work: Callable[[], _T]) -> Callable[[], _T]:
    """Start ``work`` in a forked process (it sees this process's memory as it is now); the returned
    function waits for its result. Should that process die, the work is done here instead."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_send, args=(work, sender), daemon=True)
    process.start()
    sender.close()

    def wait() -> _T:
        try:
            ok, value = receiver.recv()
        except EOFError:  # the process died without an answer (killed, out of memory)
            process.join()
            return work()
        finally:
            receiver.close()
        process.join()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return wait


def _forks(workers: int | None, records: int) -> bool:
    """Whether a run of ``records`` uses more than one process (see :data:`PARALLEL_FROM`)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    return workers > 1 and records >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods()


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
    with _collector_paused():
        prepared = prepare_file(path, encoding=encoding, workers=workers, progress=progress)
        run_aside = _run_forked if _forks(workers, len(prepared.forms)) else None
        result = resolve_flat(prepared.record_ids, prepared.forms, progress, run_aside=run_aside)
        write(result, out, suggestions)
    return Outcome(result=result, errors=prepared.errors)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a run: the run builds millions of objects without cycles
    (reference counting frees them), and each full collection would walk all of them again — and, in
    a forked worker, touch every page it shares with the parent. Workers fork with it off too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
