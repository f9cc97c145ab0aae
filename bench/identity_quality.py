"""Identity quality: our ``crm dedupe`` engine beside Splink on the same labelled records.

For the development and the held-out style of :mod:`identity_data` it prints pairwise
precision / recall / F1 of customers and of accounts, junk precision / recall and runtime.
Our engine runs the CLI's path (``customer_master.batch.dedupe_file`` on a temp JSONL).
Splink 5 (DuckDB) gets the same records with normalised columns it can compare (E.164
mobile, lower-case e-mail, unionid, WeCom id, our normalised name, company key, region code),
blocking on each identifier and on the name, u by random sampling, m by EM, clusters at
match probability ``--splink-threshold``. Splink links persons only: an account is an
organisation behind several persons, which its one-entity-per-cluster model does not
express, and it has no junk flag — those cells print as '-'.

Run: .venv/bin/python bench/identity_quality.py [--records N] [--seed S] [--json] [--no-splink]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from customer_master.batch import dedupe_file
from customer_master.domain.companies import normalise_company
from customer_master.domain.names import normalise_name
from customer_master.domain.normalise import normalise_email
from customer_master.domain.phones import classify_phone
from customer_master.domain.regions import normalise_region
from identity_data import STYLES, Labelled, Style, generate  # type: ignore[import-not-found]  # run as a script


@dataclass(frozen=True)
class Pairwise:
    """Pairwise precision / recall / F1 of a predicted clustering against the truth."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int


def _pairs(sizes: Counter[Any]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes.values())


def pairwise(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> Pairwise:
    """Pairwise scores from cluster labels per record, by group counts (never O(n²) pairs)."""
    agree = _pairs(Counter(zip(truth, predicted, strict=True)))
    real, found = _pairs(Counter(truth)), _pairs(Counter(predicted))
    precision = agree / found if found else 1.0
    recall = agree / real if real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Pairwise(precision, recall, f1, real, found)


def flags(truth: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of a per-record flag."""
    hit = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    flagged, real = sum(predicted), sum(truth)
    return (hit / flagged if flagged else 1.0), (hit / real if real else 1.0)


@dataclass(frozen=True)
class Figures:
    """One engine on one data set."""

    engine: str
    dataset: str
    records: int
    seconds: float
    customers: Pairwise
    accounts: Pairwise | None
    junk_precision: float | None
    junk_recall: float | None


def _truth(records: Sequence[Labelled]) -> tuple[list[str], list[str]]:
    persons = [r.person for r in records]
    accounts = [r.account or f"none:{r.row['record_id']}" for r in records]
    return persons, accounts


def dedupe_rows(records: Sequence[Labelled]) -> tuple[list[dict[str, Any]], float]:
    """Our engine through the CLI's file path: its output row per record (in order) and seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record.row, ensure_ascii=False) + "\n")
        started = time.perf_counter()
        dedupe_file(source, out, workers=1)
        seconds = time.perf_counter() - started
        rows = {row["record_id"]: row for row in map(json.loads, out.open(encoding="utf-8"))}
    return [rows[r.row["record_id"]] for r in records], seconds


def run_ours(
    records: Sequence[Labelled], dataset: str, ran: tuple[list[dict[str, Any]], float] | None = None
) -> Figures:
    """Our engine through the CLI's file path (or scores ``ran``, a :func:`dedupe_rows` result)."""
    got, seconds = ran if ran is not None else dedupe_rows(records)
    persons, accounts = _truth(records)
    junk_p, junk_r = flags([r.junk for r in records], [row["junk"] for row in got])
    return Figures(
        engine="ours",
        dataset=dataset,
        records=len(records),
        seconds=seconds,
        customers=pairwise(persons, [row["customer_id"] for row in got]),
        accounts=pairwise(accounts, [row["account_id"] or f"none:{row['record_id']}" for row in got]),
        junk_precision=junk_p,
        junk_recall=junk_r,
    )


def splink_rows(records: Sequence[Labelled]) -> list[dict[str, str | None]]:
    """The columns Splink compares, normalised so exact and fuzzy comparisons are meaningful."""
    out: list[dict[str, str | None]] = []
    for index, record in enumerate(records):
        row = record.row
        phone = classify_phone(row.get("phone", ""))
        company = normalise_company(row.get("company", ""))
        values = {
            "unique_id": str(index),
            "mobile": phone.e164 if phone.kind == "mobile" else "",
            "email": normalise_email(row.get("email", "")),
            "unionid": row.get("unionid", ""),
            "wecom": row.get("wecom_external_userid", ""),
            "name": normalise_name(row.get("name", "")).text,
            "company": company.key,
            "region": normalise_region(row.get("region", "")) or company.region_code,
        }
        out.append({key: value or None for key, value in values.items()})
    return out


def run_splink(records: Sequence[Labelled], dataset: str, threshold: float) -> Figures:
    """Splink 5 on DuckDB: train, predict, cluster at ``threshold``."""
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    connection = duckdb.connect()
    table = pa.Table.from_pylist(splink_rows(records))
    connection.register("raw_records", table)
    connection.execute("CREATE TABLE records AS SELECT * FROM raw_records")
    api = DuckDBAPI(connection)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ExactMatch("unionid"),
            cl.ExactMatch("wecom"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("email"),
            cl.JaroWinklerAtThresholds("name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("company", [0.92, 0.8]),
            cl.ExactMatch("region"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("unionid"),
            block_on("wecom"),
            block_on("mobile"),
            block_on("email"),
            block_on("name"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(api.register("records"), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match([block_on("mobile"), block_on("unionid")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    cluster_of = {str(row["unique_id"]): str(row["cluster_id"]) for row in clusters.as_record_list()}
    seconds = time.perf_counter() - started
    persons, _ = _truth(records)
    predicted = [cluster_of.get(str(i), f"alone:{i}") for i in range(len(records))]
    return Figures("splink", dataset, len(records), seconds, pairwise(persons, predicted), None, None, None)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_table(figures: Sequence[Figures]) -> None:
    """A rich table, one row per engine and data set."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Identity quality (pairwise; customers = persons, accounts = organisations)")
    for column in ("data", "engine", "records", "cust P", "cust R", "cust F1", "acct P", "acct R", "acct F1"):
        table.add_column(column, justify="right")
    for column in ("junk P", "junk R", "seconds"):
        table.add_column(column, justify="right")
    for f in figures:
        acct = f.accounts
        table.add_row(
            f.dataset,
            f.engine,
            f"{f.records:,}",
            _cell(f.customers.precision),
            _cell(f.customers.recall),
            _cell(f.customers.f1),
            _cell(acct.precision if acct else None),
            _cell(acct.recall if acct else None),
            _cell(acct.f1 if acct else None),
            _cell(f.junk_precision),
            _cell(f.junk_recall),
            f"{f.seconds:.2f}",
        )
    Console(width=160).print(table)


def print_results(results: Sequence[Figures], *, as_json: bool) -> None:
    """The figures as JSON (``--json``) or as a table."""
    if as_json:
        json.dump([asdict(f) for f in results], sys.stdout, indent=2)
        print()
    else:
        print_table(results)


def main() -> None:
    """Generate both data sets, run both engines, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--styles", default="dev,held-out", help="Comma-separated: dev, held-out.")
    parser.add_argument("--splink-threshold", type=float, default=0.99)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    results: list[Figures] = []
    for name in args.styles.split(","):
        style: Style = STYLES[name.strip()]
        records = generate(args.records, style, args.seed)
        results.append(run_ours(records, style.name))
        if not args.no_splink:
            results.append(run_splink(records, style.name, args.splink_threshold))
    print_results(results, as_json=args.json)


if __name__ == "__main__":
    main()
