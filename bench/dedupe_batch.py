"""Benchmark ``crm dedupe``'s path: N synthetic records with duplicates → records/s, wall time and peak memory.

Each synthetic person appears 1-4 times with the seeds' dirt (phone formats, traditional
characters and emoji in names, bracketed region in company names, identifiers on some rows
only); ~3% of rows are junk. Runs the same file path as the CLI (write JSONL, load,
resolve, write OUT) and prints throughput, wall time, CPU time, peak memory and, as a sanity
check, pairwise precision / recall of customers against the generator's labels.

Memory: the peak resident set of this process, of the largest normalising worker, and the peak
of their sum sampled every 50 ms while the run lasts (shared pages counted in each process, so an
upper bound). The generator streams to the file, so what the run holds is what is measured.

Run: .venv/bin/python bench/dedupe_batch.py [--records N] [--seed S] [--workers W] [--repeat R] [--cli]

``--cli`` times the real ``crm dedupe`` command in a subprocess instead (interpreter start-up
and imports included; memory is then the largest single process).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from customer_master.batch import dedupe_file

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
TRADITIONAL = str.maketrans("伟丽军刚华兰杨陈刘赵吴孙马郭罗", "偉麗軍剛華蘭楊陳劉趙吳孫馬郭羅")
CITIES = [("上海", "沪"), ("北京", "京"), ("广州", "广州"), ("深圳", "深圳"), ("杭州", "杭州"), ("成都", "成都")]
TRADES = ["华信", "博远", "恒通", "中科", "瑞丰", "天成", "新锐", "远航", "同创", "嘉和", "金石", "云帆"]
INDUSTRY = ["科技", "贸易", "医疗器械", "信息技术", "物流", "生物医药"]
MOBILE_PREFIXES = ["130", "131", "135", "136", "137", "139", "150", "151", "158", "159", "177", "186", "188", "199"]
JUNK = [{"name": "测试"}, {"phone": "13800000000"}, {"company": "测试公司"}, {"name": "test"}, {"phone": "12345678901"}]


def _phone_variant(rng: random.Random, mobile: str) -> str:
    spaced = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    return rng.choice([mobile, f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", f"0086{mobile}", spaced])


def iter_records(n: int, seed: int) -> Iterator[tuple[dict[str, str], str]]:
    """N records, each with its true person id (junk rows are their own person), as they are made."""
    rng = random.Random(seed)
    companies = [
        (city, short, trade + rng.choice(INDUSTRY)) for city, short in CITIES for trade in TRADES for _ in range(40)
    ]
    made = 0
    person = 0
    while made < n:
        person += 1
        if rng.random() < 0.03:
            rid = f"r{made:07d}"
            yield (
                {"record_id": rid, "name": "某人", "phone": f"139{rng.randrange(10**8):08d}"} | rng.choice(JUNK),
                (f"junk{rid}"),
            )
            made += 1
            continue
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        unionid = f"oU{person:08d}" if rng.random() < 0.5 else ""
        email = f"u{person}@{rng.choice(['qq.com', '163.com', 'corp.cn'])}" if rng.random() < 0.4 else ""
        company = rng.choice(companies) if rng.random() < 0.7 else None
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            if made >= n:
                break
            rid = f"r{made:07d}"
            row = {"record_id": rid, "source": rng.choice(["miniprogram", "wecom", "order", "form"])}
            row["name"] = rng.choice([name, name.translate(TRADITIONAL), f"🌸{name}🌸", name])
            row["phone"] = _phone_variant(rng, mobile)
            if unionid and rng.random() < 0.6:
                row["unionid"] = unionid
            if email and rng.random() < 0.6:
                row["email"] = email.upper() if rng.random() < 0.3 else email
            if company is not None:
                city, short, core = company
                spellings = [f"{city}{core}有限公司", f"{core}（{city}）有限公司", f"{city}市{core}有限公司"]
                row["company"] = rng.choice(spellings)
                row["region"] = rng.choice([city, short, f"{city}市"])
            yield row, f"p{person}"
            made += 1


def make_records(n: int, seed: int) -> tuple[list[dict[str, str]], dict[str, str]]:
    """N records and record_id → true person id (junk rows are their own person)."""
    records: list[dict[str, str]] = []
    truth: dict[str, str] = {}
    for row, person in iter_records(n, seed):
        records.append(row)
        truth[row["record_id"]] = person
    return records, truth


def write_input(path: Path, n: int, seed: int) -> list[str]:
    """Write N records as JSONL; the true person of each line, in order."""
    persons: list[str] = []
    with path.open("w", encoding="utf-8") as handle:
        for row, person in iter_records(n, seed):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            persons.append(person)
    return persons


def _pairs(sizes: Iterable[int]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                for child in children.read().split():
                    found.append(int(child))
                    found.extend(_descendants(int(child)))
        except OSError:
            continue
    return found


class MemorySampler:
    """Peak of the summed resident set of a process and its descendants, sampled in a thread (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(_rss_kb(pid) for pid in [self.pid, *_descendants(self.pid)])
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_in_process(source: Path, out: Path, workers: int | None) -> tuple[float, dict[str, float], dict[str, int]]:
    """dedupe_file as the CLI calls it: (seconds, phase → seconds when done, counts)."""
    phases: dict[str, float] = {}
    started = time.perf_counter()

    def progress(phase: str, done: int, total: int) -> None:
        if done == total:
            phases[phase] = time.perf_counter() - started

    outcome = dedupe_file(source, out, out.with_suffix(".sug"), progress=progress, workers=workers)
    elapsed = time.perf_counter() - started
    stats = outcome.result.stats
    counts = {
        "records": stats.records,
        "rejected": len(outcome.errors),
        "customers": stats.customers,
        "accounts": stats.accounts,
        "junk": stats.junk,
        "suggestions": stats.suggestions,
        "comparisons": stats.comparisons,
        "windowed_blocks": stats.windowed_blocks,
    }
    return elapsed, phases, counts


def run_cli(source: Path, out: Path, workers: int | None) -> tuple[float, dict[str, float], dict[str, int]]:
    """The ``crm dedupe`` command in a subprocess: (seconds, {}, counts from its summary line)."""
    command = [str(Path(sys.executable).with_name("crm")), "dedupe", str(source), "--out", str(out), "--no-progress"]
    command += ["--suggestions", str(out.with_suffix(".sug"))]
    if workers is not None:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crm dedupe failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stderr.strip().splitlines()[-1])["dedupe"]
    return elapsed, {}, {key: value for key, value in summary.items() if isinstance(value, int)}


def main() -> None:
    """Generate, run (``--repeat`` times), print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="Normalising processes (default: CPU count).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs on the same input, each printed.")
    parser.add_argument("--cli", action="store_true", help="Time the `crm dedupe` command in a subprocess.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        persons = write_input(source, args.records, args.seed)
        size_mb = source.stat().st_size / 2**20
        print(
            f"input            {args.records:>12,} records, {size_mb:,.0f} MB of JSONL, written in "
            f"{time.perf_counter() - started:.1f} s; load average before the runs {os.getloadavg()[0]:.2f}"
        )
        for run in range(1, args.repeat + 1):
            cpu_before = _cpu_seconds()
            with MemorySampler(os.getpid()) as memory:
                elapsed, phases, counts = (run_cli if args.cli else run_in_process)(source, out, args.workers)
            cpu = _cpu_seconds() - cpu_before
            own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            with out.open(encoding="utf-8") as handle:
                predicted = [json.loads(line)["customer_id"] for line in handle]
            agree = _pairs(Counter(zip(persons, predicted, strict=True)).values())
            found, real = _pairs(Counter(predicted).values()), _pairs(Counter(persons).values())
            del predicted
            records = counts["records"]
            done_at = ", ".join(f"{phase} done at {at:.1f}s" for phase, at in phases.items())
            largest = "largest process" if args.cli else "this process"
            print(f"run {run} ({'crm dedupe in a subprocess, start-up included' if args.cli else 'dedupe_file'})")
            print(f"  records        {records:>12,}  (rejected {counts['rejected']})")
            print(f"  wall time      {elapsed:>12.2f} s   {f'({done_at})' if done_at else ''}")
            print(f"  throughput     {records / elapsed:>12,.0f} records/s")
            print(f"  CPU time       {cpu:>12.2f} s   (all processes: {cpu / elapsed:.2f} cores busy on average)")
            print(f"  peak memory    {memory.peak_kb / 1024:>12,.0f} MB  (RSS summed over processes, sampled)")
            print(
                f"                 {max(own_mb, child_mb) if args.cli else own_mb:>12,.0f} MB  ({largest}, "
                f"lifetime peak); largest worker {child_mb:,.0f} MB"
            )
            print(f"  customers      {counts['customers']:>12,}  (true persons {len(set(persons)):,})")
            print(
                f"  accounts       {counts['accounts']:>12,}  junk {counts['junk']:,}, "
                f"suggestions {counts['suggestions']:,}"
            )
            print(f"  comparisons    {counts['comparisons']:>12,}  windowed blocks {counts['windowed_blocks']}")
            print(f"  pairwise P / R {agree / found if found else 1.0:>12.4f} / {agree / real if real else 1.0:.4f}")


if __name__ == "__main__":
    main()
