"""``crm import FILE``: load historical customers (the sheets reps keep) into a running customer-master.

Rows are read with ``crm dedupe``'s reader (:func:`customer_master.batch.load`: JSONL, CSV
or XLSX, the same columns, the same line numbers and row checks), checked a little further
(an ``observed_at`` that is a date, something that identifies a customer), and produced as
one ``crm.import.customer_record_imported`` CloudEvent each on ``crm.touchpoint.import.v1``
(binary mode, protobuf). customer-master resolves them as it resolves every touchpoint, so
the identity keys, survivorship, accounts and duplicate search are the streaming ones; an
imported record never opens a lead.

The event id is derived from the row's source and record_id, so importing a file again is a
replay: customer-master's ledger and source-record check apply nothing twice. ce_time is the
row's ``observed_at`` (a date without a time or offset is read in China time, UTC+8), else
the import's start; it is the source record's time in survivorship.

The command then waits until customer-master's consumer group has committed past every row
it produced (its committed offsets, read from the broker) and reads ``crm.customer.resolved``
(correlated by event id) and the import topic's DLQ to say, per row, whether it made a new
customer, matched an existing one, or changed nothing (a row imported before: customer-master
emits nothing for a replay).

customer-master's modules are imported inside functions, as in :mod:`crm_cli.dedupe`, so the
rest of ``crm`` works where customer-master is not installed.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage
from confluent_kafka.admin import AdminClient
from crm.events.common.v1.identity_pb2 import Identity
from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerResolved
from crm.events.touchpoint.v1.touchpoint_pb2 import CustomerRecordImported
from crm_contracts import load_registry
from crmkit.cloudevents import PROTOBUF, CloudEvent, decode, encode_data, encode_headers
from crmkit.errors import PoisonMessage
from crmkit.pii import phone_key
from crmkit.settings import ServiceSettings
from crmkit.timeutil import to_timestamp, utcnow

from crm_cli.progress import OnProgress, phase_bars

if TYPE_CHECKING:
    from customer_master.batch import RowError
    from customer_master.domain.dedupe import SourceRecord

IMPORT_TOPIC = "crm.touchpoint.import.v1"
IMPORT_TYPE = "crm.import.customer_record_imported"
CUSTOMER_TOPIC = "crm.customer.v1"
RESOLVED = "crm.customer.resolved"
MERGED = "crm.customer.merged"
GROUP = "customer-master"
CE_SOURCE_PREFIX = "/crm-cli/import/"
CHINA = timezone(timedelta(hours=8), "UTC+08:00")
FUTURE_SLACK = timedelta(days=1)
IDENTIFYING = ("name", "company", "phone", "email", "unionid", "wecom_external_userid")
DEV_PII_KEY: str = ServiceSettings.model_fields["pii_key"].default  # as `crm up` runs the services
MAX_ERRORS_SHOWN = 20
_NAMESPACE = uuid.UUID("0b7d8f36-52a4-4c1e-9a0e-3f6a2c4d5e71")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:$|[T ]+(.*)$)")

"""(phase, done, total): phases ``produce`` (acknowledged by the broker) and ``customer-master`` (consumed)."""


class ImportFailed(RuntimeError):
    """The import cannot start: no broker, no topic, unreadable input."""


# --- rows → events -----------------------------------------------------------------------


def event_id_for(source: str, record_id: str) -> str:
    """The CloudEvents id of one row: the same source and record_id always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{source}\x1f{record_id}"))


def ce_source_for(source: str) -> str:
    """The CloudEvents source of a row from ``source`` (a URI reference; the name percent-encoded)."""
    return CE_SOURCE_PREFIX + quote(source, safe="")


def parse_observed_at(text: str) -> datetime:
    """An ``observed_at`` cell as an aware UTC time; ValueError naming what is accepted.

    ISO 8601 with or without a time and offset ('2023-05-18', '2023-05-18 14:30',
    '2023-05-18T06:30:00Z'); '/', '.' or 年月日 may separate the date. Without an offset the
    time is China time (UTC+8); a date alone is its midnight.
    """
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueError(f"not a date: {text!r}; write it as YYYY-MM-DD, optionally with a time")
    year, month, day, rest = match.groups()
    try:
        day_part = date(int(year), int(month), int(day)).isoformat()
        moment = datetime.fromisoformat(f"{day_part}T{rest.strip()}" if rest else day_part)
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} ({exc})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class ImportRow:
    """One accepted row, ready to produce."""

    line: int
    record_id: str
    source: str
    event_id: str
    key: str
    time: datetime
    message: CustomerRecordImported


def to_row(
    record: SourceRecord, *, file: str, line: int, default_source: str, now: datetime, pii_key: str = DEV_PII_KEY
) -> ImportRow | RowError:
    """The event for one row the reader accepted, or the reason it cannot be imported."""
    from customer_master.batch import RowError
    from customer_master.domain.identity import identity_keys

    source = record.source or default_source
    observed: datetime | None = None
    if record.observed_at:
        try:
            observed = parse_observed_at(record.observed_at)
        except ValueError as exc:
            return RowError(file, line, str(exc), "observed_at")
        if observed > now + FUTURE_SLACK:
            return RowError(file, line, f"{record.observed_at!r} is in the future", "observed_at")
    if not any(getattr(record, name) for name in IDENTIFYING):
        return RowError(
            file, line, f"nothing identifies a customer: no {', '.join(IDENTIFYING[:-1])} or {IDENTIFYING[-1]}"
        )
    message = CustomerRecordImported(
        identity=Identity(
            phone=record.phone,
            email=record.email,
            unionid=record.unionid,
            wecom_external_userid=record.wecom_external_userid,
        ),
        record_id=record.record_id,
        source=source,
        name=record.name,
        company=record.company,
        credit_code=record.credit_code,
        region=record.region,
        industry=record.industry,
        address=record.address,
    )
    if observed is not None:
        message.observed_at.CopyFrom(to_timestamp(observed))
    keys = identity_keys(message.identity)
    if keys:  # the strongest key, so one person's rows share a partition; a phone only as its HMAC
        strongest = keys[0]
        key = phone_key(
            strongest.value if strongest.kind == "phone" else f"{strongest.kind}:{strongest.value}", secret=pii_key
        )
    else:
        key = phone_key(f"record:{source}\x1f{record.record_id}", secret=pii_key)
    return ImportRow(
        line=line,
        record_id=record.record_id,
        source=source,
        event_id=event_id_for(source, record.record_id),
        key=key,
        time=observed or now,
        message=message,
    )


@dataclass
class ReadResult:
    """The rows to produce and the rows rejected (with file, line, column and reason)."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Rows read: accepted and rejected (blank lines are not rows)."""
        return len(self.rows) + len(self.errors)


def read_rows(
    path: Path,
    *,
    default_source: str | None = None,
    encoding: str = "utf-8-sig",
    now: datetime | None = None,
    pii_key: str = DEV_PII_KEY,
) -> ReadResult:
    """Read and check every row of ``path``; ImportFailed when the file cannot be read at all.

    ``default_source`` names the rows without a ``source`` cell (default: the file name
    without its suffix).
    """
    from customer_master.batch import InputError, load

    try:
        loaded = load(path, encoding=encoding)
    except InputError as exc:
        raise ImportFailed(str(exc)) from None
    now = now or utcnow()
    source = default_source or path.stem
    result = ReadResult(errors=list(loaded.errors))
    for record, line in zip(loaded.records, loaded.lines, strict=True):
        row = to_row(record, file=str(path), line=line, default_source=source, now=now, pii_key=pii_key)
        if isinstance(row, ImportRow):
            result.rows.append(row)
        else:
            result.errors.append(row)
    result.errors.sort(key=lambda error: error.line)
    return result


# --- the running customer-master -------------------------------------------------------------


@dataclass
class Resolution:
    """What customer-master said about one produced row."""

    customer_id: str = ""
    account_id: str = ""
    created: bool = False
    matched_on: str = ""
    dead_letter: str = ""


@dataclass
class Watch:
    """customer-master's answers for this import's event ids, read from crm.customer.v1 and the DLQ."""

    wanted: set[str]
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)  # absorbed customer → survivor
    last_answer: float = 0.0

    def take(self, message: KafkaMessage) -> None:
        """Account for one record of the watched topics."""
        headers = _headers(message)
        topic = message.topic() or ""
        if topic == f"{IMPORT_TOPIC}.dlq":
            event_id = headers.get("ce_id", "")
            if event_id in self.wanted:
                self.resolutions[event_id] = Resolution(dead_letter=headers.get("crm_dlq_error", "dead-lettered"))
                self.last_answer = time.monotonic()
            return
        kind = headers.get("ce_type")
        if not (kind == MERGED or (kind == RESOLVED and headers.get("ce_correlationid") in self.wanted)):
            return  # parse only what may concern this import
        event = _decoded(message)
        if event is None:
            return
        if isinstance(event.data, CustomerMerged):
            self.merged_into[event.data.absorbed_id] = event.data.survivor_id
        elif isinstance(event.data, CustomerResolved) and event.data.touchpoint.event_id in self.wanted:
            resolved = event.data
            self.resolutions[resolved.touchpoint.event_id] = Resolution(
                customer_id=resolved.customer_id,
                account_id=resolved.account_id,
                created=resolved.created,
                matched_on=resolved.matched_on,
            )
            self.last_answer = time.monotonic()

    def complete(self) -> bool:
        """Every wanted event id has an answer."""
        return len(self.resolutions) >= len(self.wanted)


def _header_pairs(message: KafkaMessage) -> list[tuple[str, bytes]]:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), v if isinstance(v, bytes) else str(v or "").encode()) for k, v in pairs]


def _headers(message: KafkaMessage) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in _header_pairs(message)}


def _decoded(message: KafkaMessage) -> CloudEvent | None:
    """A crm.customer.v1 record as its CloudEvent; None when it is not a valid one."""
    value = message.value()
    try:
        return decode(
            registry=load_registry(),
            topic=CUSTOMER_TOPIC,
            value=value if isinstance(value, bytes) else None,
            headers=_header_pairs(message),
        )
    except PoisonMessage:
        return None


class Pipeline:
    """The broker side of one import: produce, then follow customer-master until it answered."""

    def __init__(self, bootstrap: str, *, group: str = GROUP) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": False,
                "acks": "all",
                "linger.ms": 50,  # as crm_cli.loadgen: the embedded broker wants batches
                "socket.nagle.disable": True,
                "queue.buffering.max.messages": 1_000_000,
            }
        )
        self._admin = AdminClient({"bootstrap.servers": bootstrap})
        self.partitions = self._partitions(IMPORT_TOPIC)
        self.delivered: dict[str, tuple[int, int]] = {}  # event id → (partition, offset)
        self.failed: dict[str, str] = {}
        self._watcher: Consumer | None = None
        self._at_end: dict[tuple[str, int], bool] = {}

    def _partitions(self, topic: str) -> int:
        try:
            metadata = self._producer.list_topics(topic, timeout=10)
        except KafkaException as exc:
            raise ImportFailed(f"cannot reach the broker at {self.bootstrap}: {exc}") from None
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise ImportFailed(
                f"topic {topic} does not exist at {self.bootstrap}; is a current stack running (`crm up` creates it)?"
            )
        return len(found.partitions)

    def watch(self) -> None:
        """Start reading crm.customer.v1 and the import DLQ at their ends (call before producing).

        What is there before this import produced anything cannot answer it — but may carry the
        same event ids (a file imported before), so it is read past first: from the high
        watermark, to the end each partition reports (the embedded broker's high watermark can
        be a batch short of the end).
        """
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"crm-import-{time.time_ns()}",  # never commits: offsets are assigned
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 100,
            }
        )
        assignment = []
        for topic in (CUSTOMER_TOPIC, f"{IMPORT_TOPIC}.dlq"):
            for partition in range(self._partitions(topic)):
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                assignment.append(TopicPartition(topic, partition, high))
                self._at_end[(topic, partition)] = False
        consumer.assign(assignment)
        self._watcher = consumer
        self._read(lambda _message: None, until_end=True, timeout=10.0)

    def _read(self, take: Callable[[KafkaMessage], None], *, until_end: bool, timeout: float) -> None:
        """Hand watched records to ``take``: one poll, or (``until_end``) until every partition is at its end."""
        assert self._watcher is not None
        deadline = time.monotonic() + timeout
        while True:
            for message in self._watcher.consume(num_messages=500, timeout=0.2):
                error = message.error()
                where = (message.topic() or "", message.partition() or 0)
                if error is None:
                    self._at_end[where] = False
                    take(message)
                elif error.code() == KafkaError._PARTITION_EOF:
                    self._at_end[where] = True
            if not until_end or all(self._at_end.values()) or time.monotonic() > deadline:
                return

    def produce(self, rows: list[ImportRow], on_progress: OnProgress | None = None, *, timeout: float = 60.0) -> None:
        """Produce every row (binary-mode CloudEvents, protobuf) and wait for the broker's acks."""
        total = len(rows)

        def delivered(event_id: str, error: KafkaError | None, message: KafkaMessage) -> None:
            if error is not None:
                self.failed[event_id] = str(error)
            else:
                self.delivered[event_id] = (message.partition() or 0, message.offset() or 0)
            if on_progress is not None:
                on_progress("produce", len(self.delivered) + len(self.failed), total)

        for row in rows:
            headers: list[tuple[str, str | bytes | None]] = [
                *encode_headers(
                    event_id=row.event_id,
                    source=ce_source_for(row.source),
                    event_type=IMPORT_TYPE,
                    time=row.time,
                    content_type=PROTOBUF,
                )
            ]
            value = encode_data(row.message, PROTOBUF)
            while True:
                try:
                    self._producer.produce(
                        IMPORT_TOPIC,
                        key=row.key.encode(),
                        value=value,
                        headers=headers,
                        on_delivery=partial(delivered, row.event_id),  # delivery reports carry no headers
                    )
                    break
                except BufferError:
                    self._producer.poll(0.05)
            self._producer.poll(0)
        remaining = self._producer.flush(timeout)
        if remaining:
            for row in rows:
                if row.event_id not in self.delivered:
                    self.failed.setdefault(row.event_id, f"not acknowledged within {timeout:.0f}s")

    def consumed(self) -> int:
        """How many delivered rows customer-master's consumer group has committed past."""
        if not self.delivered:
            return 0
        request = ConsumerGroupTopicPartitions(
            self.group, [TopicPartition(IMPORT_TOPIC, p) for p in range(self.partitions)]
        )
        try:
            answer = self._admin.list_consumer_group_offsets([request])[self.group].result(timeout=10)
        except KafkaException:
            return -1
        committed = {tp.partition: tp.offset for tp in answer.topic_partitions if tp.error is None}
        return sum(1 for partition, offset in self.delivered.values() if offset < committed.get(partition, -1))

    def follow(
        self, watch: Watch, on_progress: OnProgress | None = None, *, timeout: float, settle: float
    ) -> tuple[int, bool]:
        """Read answers until customer-master consumed every row and answered each (or went quiet).

        A row customer-master consumed without an answer within ``settle`` seconds of the last
        answer was a replay (imported before). Returns (rows consumed, whether it finished in time).
        """
        assert self._watcher is not None, "watch() before producing"
        deadline = time.monotonic() + timeout
        total = len(self.delivered)
        consumed, consumed_at, checked = 0, 0.0, 0.0
        while time.monotonic() < deadline:
            self._read(watch.take, until_end=False, timeout=0)
            now = time.monotonic()
            if watch.complete() and consumed < total:  # answers are published after customer-master's commit
                consumed, consumed_at = total, now
                if on_progress is not None:
                    on_progress("customer-master", consumed, total)
            if consumed < total and now - checked >= 0.25:
                checked = now
                consumed = max(consumed, self.consumed())
                if on_progress is not None:
                    on_progress("customer-master", consumed, total)
                if consumed >= total:
                    consumed_at = now
            if consumed >= total and (watch.complete() or now - max(consumed_at, watch.last_answer) >= settle):
                self._read(watch.take, until_end=True, timeout=5.0)  # merges published beside the answers
                return consumed, True
        return consumed, False

    def close(self) -> None:
        """Close the watcher (it never committed anything)."""
        if self._watcher is not None:
            self._watcher.close()


# --- the summary --------------------------------------------------------------------------


@dataclass
class Summary:
    """What one import did, row by row and in total."""

    file: str
    rows_read: int
    rejected: list[RowError]
    produced: int
    produce_failed: dict[str, str]
    waited: bool
    finished: bool
    consumed: int
    outcomes: list[dict[str, Any]]
    seconds: float

    def counts(self) -> dict[str, int]:
        """Rows per outcome."""
        found = Counter(str(o["outcome"]) for o in self.outcomes)
        return {name: found.get(name, 0) for name in OUTCOMES}

    def as_json(self) -> dict[str, Any]:
        """The summary as one JSON object."""
        reasons = Counter(_reason(error) for error in self.rejected)
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "produced": self.produced,
            "rejected": len(self.rejected),
            "rejected_reasons": dict(reasons.most_common()),
            "produce_failed": len(self.produce_failed),
            "waited": self.waited,
            "consumed": self.consumed,
            "complete": self.finished,
            **self.counts(),
            "auto_merged": sum(1 for o in self.outcomes if o.get("merged_into")),
            "seconds": round(self.seconds, 3),
        }

    @property
    def exit_code(self) -> int:
        """2 when a row was rejected; 1 when a row failed later or customer-master did not answer in time."""
        if self.rejected:
            return 2
        counts = self.counts()
        if self.produce_failed or counts["dead_lettered"] or (self.waited and not self.finished):
            return 1
        return 0


OUTCOMES = ("new", "existing", "same_as_earlier_row", "unchanged", "dead_lettered", "not_produced", "unconfirmed")
"""A row's outcome: ``new`` customer; matched a customer that ``existing`` before this import, or
one an earlier row of this import created (``same_as_earlier_row``); ``unchanged`` (imported
before: customer-master applied nothing); ``dead_lettered``; ``not_produced``; ``unconfirmed``
(not waited for, or no answer before the timeout)."""


def _reason(error: RowError) -> str:
    where = f"{error.column}: " if error.column else ""
    return where + re.sub(r"'[^']*'", "…", error.message)


def outcomes_of(
    rows: list[ImportRow], *, watch: Watch | None, failed: dict[str, str], finished: bool
) -> list[dict[str, Any]]:
    """One line per produced row: where it landed."""
    created = {r.customer_id for r in watch.resolutions.values() if r.created and not r.dead_letter} if watch else set()
    lines = []
    for row in rows:
        line: dict[str, Any] = {"line": row.line, "record_id": row.record_id, "event_id": row.event_id}
        answer = watch.resolutions.get(row.event_id) if watch else None
        if row.event_id in failed:
            line.update(outcome="not_produced", error=failed[row.event_id])
        elif answer is None:
            line["outcome"] = "unchanged" if watch is not None and finished else "unconfirmed"
        elif answer.dead_letter:
            line.update(outcome="dead_lettered", error=answer.dead_letter)
        else:
            outcome = (
                "new" if answer.created else "same_as_earlier_row" if answer.customer_id in created else "existing"
            )
            line.update(
                outcome=outcome,
                customer_id=answer.customer_id,
                account_id=answer.account_id or None,
                matched_on=answer.matched_on,
            )
            if watch is not None and answer.customer_id in watch.merged_into:
                line["merged_into"] = watch.merged_into[answer.customer_id]
        lines.append(line)
    return lines


def run_import(
    path: Path,
    *,
    bootstrap: str,
    default_source: str | None = None,
    encoding: str = "utf-8-sig",
    wait: bool = True,
    timeout: float = 300.0,
    settle: float = 3.0,
    group: str = GROUP,
    pii_key: str = DEV_PII_KEY,
    on_progress: OnProgress | None = None,
) -> Summary:
    """Read, produce, follow customer-master; ImportFailed when it cannot start."""
    started = time.perf_counter()
    read = read_rows(path, default_source=default_source, encoding=encoding, pii_key=pii_key)
    pipeline = Pipeline(bootstrap, group=group) if read.rows else None
    watch: Watch | None = None
    consumed, finished = 0, not wait
    try:
        if pipeline is not None:
            if wait:
                pipeline.watch()
            pipeline.produce(read.rows, on_progress)
            if wait:
                watch = Watch(wanted=set(pipeline.delivered))
                consumed, finished = pipeline.follow(watch, on_progress, timeout=timeout, settle=settle)
    finally:
        if pipeline is not None:
            pipeline.close()
    failed = pipeline.failed if pipeline is not None else {}
    return Summary(
        file=str(path),
        rows_read=read.read,
        rejected=read.errors,
        produced=len(pipeline.delivered) if pipeline is not None else 0,
        produce_failed=failed,
        waited=wait and pipeline is not None,
        finished=finished or pipeline is None,
        consumed=consumed,
        outcomes=outcomes_of(read.rows, watch=watch, failed=failed, finished=finished),
        seconds=time.perf_counter() - started,
    )


# --- the command --------------------------------------------------------------------------


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def import_file(
    input_file: Annotated[Path, typer.Argument(metavar="FILE", help="Customer records as XLSX, CSV or JSONL.")],
    bootstrap: Annotated[str, typer.Option(envvar="CRM_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers.")] = (
        "127.0.0.1:9092"
    ),
    source: Annotated[
        str | None,
        typer.Option("--source", help="Source of rows without a source cell (default: FILE's name without suffix)."),
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV/JSONL FILE, e.g. gb18030.")] = "utf-8-sig",
    out: Annotated[
        Path | None, typer.Option("--out", help="One JSON line per produced row: outcome, customer_id, account_id.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for customer-master to consume the import and report.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for customer-master.")] = 300.0,
    settle: Annotated[
        float, typer.Option(help="Seconds without an answer after which a consumed row counts as unchanged.")
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bars (default: on a terminal).")
    ] = None,
) -> None:
    """Load customer records into a running customer-master, through the same path as live touchpoints.

    Each row becomes one crm.import.customer_record_imported event whose id comes from its source
    and record_id, so importing a file again changes nothing. Malformed rows are reported with
    their line and skipped (exit status 2 when any was); the summary says how many rows made new
    customers, matched existing ones, or were already imported.
    """
    show = sys.stderr.isatty() if progress is None else progress
    pii_key = ServiceSettings().pii_key  # CRM_PII_KEY, as the services read it
    try:
        with phase_bars(show) as on_progress:
            summary = run_import(
                input_file,
                bootstrap=bootstrap,
                default_source=source,
                encoding=encoding,
                wait=wait,
                timeout=timeout,
                settle=settle,
                pii_key=pii_key,
                on_progress=on_progress,
            )
    except ImportFailed as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    for error in summary.rejected[:MAX_ERRORS_SHOWN]:
        _err(f"error: {error} (row skipped)")
    if len(summary.rejected) > MAX_ERRORS_SHOWN:
        _err(f"error: … and {len(summary.rejected) - MAX_ERRORS_SHOWN} more rows skipped")
    if out is not None:
        try:
            with out.open("w", encoding="utf-8") as handle:
                for line in summary.outcomes:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            _err(f"error: cannot write {out}: {exc.strerror or exc}")
            raise typer.Exit(2) from None
    figures = summary.as_json()
    if as_json:
        print(json.dumps({"import": figures}, ensure_ascii=False))
    else:
        _print_summary(figures)
    if summary.waited and not summary.finished:
        _err(f"warning: customer-master had not answered for every row after {timeout:.0f}s; see `crm status`")
    raise typer.Exit(summary.exit_code)


def _print_summary(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("rows", "", title=f"crm import {figures['file']}")
    always = {"rows_read", "rejected", "produced", "new", "existing"}
    for name, label in (
        ("rows_read", "read"),
        ("rejected", "rejected (skipped)"),
    ):
        table.add_row(label, str(figures[name]))
    for reason, count in figures["rejected_reasons"].items():
        table.add_row(f"  {reason}", str(count))
    for name, label in (
        ("produced", "produced"),
        ("produce_failed", "not acknowledged by the broker"),
        ("consumed", "consumed by customer-master"),
        ("new", "new customers"),
        ("existing", "matched an existing customer"),
        ("same_as_earlier_row", "matched an earlier row's customer"),
        ("unchanged", "unchanged (imported before)"),
        ("auto_merged", "merged as duplicates after"),
        ("dead_lettered", "dead-lettered"),
        ("unconfirmed", "unconfirmed"),
    ):
        if figures.get(name) or name in always:
            table.add_row(label, str(figures.get(name, 0)))
    table.add_row("seconds", str(figures["seconds"]))
    Console().print(table)
