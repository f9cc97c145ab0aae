"""Benchmark ``crm dedupe``'s path: N synthetic records with duplicates → records/s and peak RSS.

Each synthetic person appears 1-4 times with the seeds' dirt (phone formats, traditional
characters and emoji in names, bracketed region in company names, identifiers on some rows
only); ~3% of rows are junk. Runs the same file path as the CLI (write JSONL, load,
resolve, write OUT) and prints throughput, peak RSS and, as a sanity check, pairwise
precision / recall of customers against the generator's labels.

Run: .venv/bin/python bench/dedupe_batch.py [--records N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def make_records(n: int, seed: int) -> tuple[list[dict[str, str]], dict[str, str]]:
    """N records and record_id → true person id (junk rows are their own person)."""
    rng = random.Random(seed)
    companies = [
        (city, short, trade + rng.choice(INDUSTRY)) for city, short in CITIES for trade in TRADES for _ in range(40)
    ]
    records: list[dict[str, str]] = []
    truth: dict[str, str] = {}
    person = 0
    while len(records) < n:
        person += 1
        if rng.random() < 0.03:
            rid = f"r{len(records):07d}"
            row = {"record_id": rid, "name": "某人", "phone": f"139{rng.randrange(10**8):08d}"} | rng.choice(JUNK)
            records.append(row)
            truth[rid] = f"junk{rid}"
            continue
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        unionid = f"oU{person:08d}" if rng.random() < 0.5 else ""
        email = f"u{person}@{rng.choice(['qq.com', '163.com', 'corp.cn'])}" if rng.random() < 0.4 else ""
        company = rng.choice(companies) if rng.random() < 0.7 else None
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            if len(records) >= n:
                break
            rid = f"r{len(records):07d}"
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
            records.append(row)
            truth[rid] = f"p{person}"
    return records, truth


def _pairs(sizes: Mapping[Any, int]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes.values())


def main() -> None:
    """Generate, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="Normalising processes (default: CPU count).")
    args = parser.parse_args()
    records, truth = make_records(args.records, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for row in records:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        phases: dict[str, float] = {}
        started = time.perf_counter()

        def progress(phase: str, done: int, total: int) -> None:
            if done == total:
                phases[phase] = time.perf_counter() - started

        outcome = dedupe_file(source, out, Path(tmp) / "sug.jsonl", progress=progress, workers=args.workers)
        elapsed = time.perf_counter() - started
        predicted = {row["record_id"]: row["customer_id"] for row in map(json.loads, out.open(encoding="utf-8"))}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stats = outcome.result.stats
    together = Counter((truth[rid], predicted[rid]) for rid in truth)
    agree = _pairs(together)
    found, real = _pairs(Counter(predicted.values())), _pairs(Counter(truth.values()))
    print(f"records          {stats.records:>12,}  (rejected {len(outcome.errors)})")
    print(f"elapsed          {elapsed:>12.2f} s   ({', '.join(f'{k} done at {v:.1f}s' for k, v in phases.items())})")
    print(f"throughput       {stats.records / elapsed:>12,.0f} records/s")
    print(f"peak RSS         {peak_mb:>12,.0f} MB   (largest normalising worker {worker_mb:,.0f} MB)")
    print(f"customers        {stats.customers:>12,}  (true persons {len(set(truth.values())):,})")
    print(f"accounts         {stats.accounts:>12,}  junk {stats.junk:,}  suggestions {stats.suggestions:,}")
    print(f"comparisons      {stats.comparisons:>12,}  windowed blocks {stats.windowed_blocks}")
    print(f"pairwise P / R   {agree / found if found else 1.0:>12.4f} / {agree / real if real else 1.0:.4f}")


if __name__ == "__main__":
    main()
