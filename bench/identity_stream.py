"""customer-master's streaming engine on the labelled data the batch benchmarks score, beside `crm dedupe`.

    .venv/bin/python bench/identity_stream.py [--data quality|unseen|holdout] [--seed N] [--records 20000]

The records of one generator (``identity_data`` in its dev style, ``identity_unseen`` or
``identity_holdout``) are written as a JSONL file and read with ``crm import``'s reader
(``crm_cli.importer.read_rows``: one ``crm.import.customer_record`` event per row), then applied
in file order through customer-master's consumer path (``EventApplier`` with the service's
subscription, batches of ``--batch`` like a consumer's polls) on a fresh SQLite database. Each
record's answer is then read from the database: the customer holding its source record (after
every merge), that customer's account and junk flag. Both engines are scored with
``identity_quality``'s pairwise scorer on the same records; the batch engine runs through
``crm dedupe``'s file path. No Kafka: the broker's hop is measured by ``bench/pipeline.py``.

The streaming engine sees each record once, in order, and decides then (identity keys, blocking
keys and the merge thresholds, one exact account block per company and region); the batch
engine sees all records at once and clusters them. The difference between the two rows is what
arriving one at a time costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import identity_quality as quality  # type: ignore[import-not-found]  # run as a script, beside it
from crm_cli.importer import IMPORT_TOPIC, IMPORT_TYPE, ce_source_for, read_rows
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, CloudEvent
from customer_master.consumers import subscription
from customer_master.storage import open_database
from sqlalchemy import text

DATA = ("quality", "unseen", "holdout")


def labelled(data: str, records: int, seed: int) -> tuple[list[Any], str]:
    """The labelled records of one generator and the data set's name."""
    if data == "quality":
        from identity_data import STYLES, generate  # type: ignore[import-not-found]

        return generate(records, STYLES["dev"], seed), f"dev/{seed}"
    if data == "unseen":
        import identity_unseen  # type: ignore[import-not-found]

        return identity_unseen.generate(records, seed), f"unseen/{seed}"
    import identity_holdout  # type: ignore[import-not-found]

    return identity_holdout.generate(records, seed), f"holdout/{seed}"


def stream_rows(records: Sequence[Any], batch: int) -> tuple[list[dict[str, Any]], float]:
    """The streaming engine's answer per record (``crm dedupe``'s output shape, in order) and its seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "records.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record.row, ensure_ascii=False) + "\n")
        read = read_rows(source)
        for error in read.errors:  # left as a customer of their own: the stream never sees them
            print(f"  not imported: {error}", file=sys.stderr)
        events = [
            CloudEvent(
                id=row.event_id,
                source=ce_source_for(row.source),
                type=IMPORT_TYPE,
                time=row.time,
                data=row.message,
                topic=IMPORT_TOPIC,
                partition=0,
                offset=offset,
            )
            for offset, row in enumerate(read.rows)
        ]
        db = open_database(f"sqlite:///{Path(tmp) / 'customer-master.db'}")
        db.create_all()
        applier = EventApplier(
            db=db,
            registry=load_registry(),
            subscription=subscription(),
            source="/customer-master",
            content_type=PROTOBUF,
        )
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            result = applier.apply(events[start : start + batch])
            if result.error is not None:
                sys.exit(f"event {start + (result.failed_at or 0)} failed: {result.error!r}")
            print(f"\r  streamed {min(start + batch, len(events)):,}/{len(events):,}", end="", file=sys.stderr)
        seconds = time.perf_counter() - started
        print(file=sys.stderr)
        answers = _answers(db.engine, [row.event_id for row in read.rows])
        db.dispose()
    by_line = {row.line: answers[row.event_id] for row in read.rows}
    alone = {"account_id": None, "junk": False}
    return [
        {"record_id": record.row["record_id"], **by_line.get(line, {"customer_id": f"alone:{line}", **alone})}
        for line, record in enumerate(records, start=1)
    ], seconds


def _answers(engine: Any, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per source record (event id): its customer after every merge, that customer's account and junk flag."""
    with engine.connect() as connection:
        holder = dict(connection.execute(text("SELECT id, customer_id FROM source_records")).all())
        customers = {
            cid: (merged, account, bool(junk))
            for cid, merged, account, junk in connection.execute(
                text("SELECT id, merged_into, account_id, junk FROM customers")
            )
        }

    def survivor(customer_id: str) -> str:
        while merged := customers[customer_id][0]:
            customer_id = merged
        return customer_id

    answers = {}
    for event_id in event_ids:
        customer_id = survivor(holder[event_id])
        _merged, account, junk = customers[customer_id]
        answers[event_id] = {"customer_id": customer_id, "account_id": account or None, "junk": junk}
    return answers


def main() -> None:
    """Generate, run both engines, print both rows."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", choices=DATA, default="unseen", help="which generator's records")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, help="the generator's seed (default: its benchmark's)")
    parser.add_argument("--batch", type=int, default=200, help="events per transaction, as a consumer's poll")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else {"quality": 11, "unseen": 101, "holdout": 20250}[args.data]
    records, dataset = labelled(args.data, args.records, seed)
    streamed = quality.run_ours(records, dataset, stream_rows(records, args.batch))
    streamed = replace(streamed, engine="ours, streaming")
    batch = quality.run_ours(records, dataset)
    results = [batch, streamed]
    quality.print_results(results, as_json=args.json)


if __name__ == "__main__":
    main()
