"""``crm dedupe``: resolve a file of customer records into customers and accounts, in bulk.

customer-master's modules are imported inside the command, so the rest of ``crm`` works
where customer-master is not installed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from crm_cli.progress import phase_bars

MAX_ERRORS_SHOWN = 20


def _err(line: str) -> None:
    """One line on stderr."""
    print(line, file=sys.stderr)


def dedupe(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="Records as JSONL or CSV (header row).")],
    out: Annotated[Path, typer.Option("--out", help="One JSON line per record: customer_id, account_id, junk.")],
    suggestions: Annotated[
        Path | None, typer.Option("--suggestions", help="Review-band pairs with score and evidence (JSONL).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of INPUT, e.g. gb18030 for Excel CSV.")] = "utf-8-sig",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes that normalise large inputs (default: CPU count).")
    ] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal).")
    ] = None,
) -> None:
    """Give every record a customer_id and account_id; merge only above the auto-merge threshold.

    Malformed rows are reported with their line and skipped (exit status 2 when any was).
    The counts go to stderr as one JSON line.
    """
    from customer_master.batch import InputError, dedupe_file

    started = time.perf_counter()
    show = sys.stdout.isatty() or sys.stderr.isatty() if progress is None else progress
    try:
        with phase_bars(show) as report:
            outcome = dedupe_file(input_file, out, suggestions, encoding=encoding, progress=report, workers=workers)
    except InputError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        _err(f"error: cannot write: {exc.strerror or exc}: {exc.filename or ''}")
        raise typer.Exit(2) from None
    for error in outcome.errors[:MAX_ERRORS_SHOWN]:
        _err(f"error: {error} (row skipped)")
    if len(outcome.errors) > MAX_ERRORS_SHOWN:
        _err(f"error: … and {len(outcome.errors) - MAX_ERRORS_SHOWN} more rows skipped")
    stats = outcome.result.stats
    summary = {
        "records": stats.records,
        "rejected": len(outcome.errors),
        "customers": stats.customers,
        "accounts": stats.accounts,
        "consumers": stats.consumers,
        "junk": stats.junk,
        "merged_records": stats.merged_records,
        "suggestions": stats.suggestions,
        "comparisons": stats.comparisons,
        "windowed_blocks": stats.windowed_blocks,
        "seconds": round(time.perf_counter() - started, 3),
    }
    _err(json.dumps({"dedupe": summary}))
    if outcome.errors:
        raise typer.Exit(2)
