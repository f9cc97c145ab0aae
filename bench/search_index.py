"""Benchmark SqliteSearchIndex: bulk indexing rate and query latency.

Run: PYTHONPATH=libs/crmkit .venv/bin/python bench/search_index.py [--docs N] [--queries N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from crmkit.search import SearchDoc, SqliteSearchIndex

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
CITIES = ["上海市", "北京市", "广州市", "深圳市", "杭州市", "成都市", "武汉市", "南京市"]
ORGS = ["第一人民医院", "第六人民医院", "中医院", "协和医院", "儿童医院", "妇幼保健院"]
DEPARTMENTS = ["骨科", "心内科", "神经外科", "儿科", "眼科", "皮肤科", "急诊科", "放射科"]
LATIN = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
BATCH = 1_000


def make_doc(rng: random.Random, i: int) -> SearchDoc:
    """Return one synthetic customer document."""
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    fields = {
        "name": name,
        "company": rng.choice(CITIES) + rng.choice(ORGS),
        "department": rng.choice(DEPARTMENTS),
        "phone": f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}",
        "email": f"{rng.choice(LATIN).lower()}{i}@example.com",
    }
    return SearchDoc(doc_id=f"c{i}", kind="customer", fields=fields, version=1)


def make_query(rng: random.Random, doc: SearchDoc) -> str:
    """Return a query a user could type to find ``doc``."""
    f = doc.fields
    return rng.choice(
        [
            f"{f['name'][0]} {f['company'][:2]} {f['department']}",
            f["name"],
            f["phone"],
            f"{f['name']} {f['department']}",
            f["company"][2:6],
        ]
    )


def percentile(samples: list[float], pct: int) -> float:
    """Return the ``pct``-th percentile of ``samples``."""
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def main() -> None:
    """Index synthetic docs in batches, run queries and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(42)
    docs = [make_doc(rng, i) for i in range(args.docs)]
    with tempfile.TemporaryDirectory() as tmp:
        index = SqliteSearchIndex(Path(tmp) / "bench.db")
        start = time.perf_counter()
        for i in range(0, len(docs), BATCH):
            index.upsert_many(docs[i : i + BATCH])
        elapsed = time.perf_counter() - start
        print(f"indexed {len(docs)} docs in {elapsed:.1f} s: {len(docs) / elapsed:,.0f} docs/s")
        latencies, hits = [], 0
        for doc in rng.sample(docs, args.queries):
            start = time.perf_counter()
            hits += bool(index.search(make_query(rng, doc)))
            latencies.append((time.perf_counter() - start) * 1000)
        print(
            f"{args.queries} queries ({hits} with hits): "
            f"p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms"
        )
        index.close()


if __name__ == "__main__":
    main()
