"""``crm import`` against the real broker and a real ``python -m customer_master`` process.

A live form touchpoint makes a customer first. Then a CSV (one malformed row) and an XLSX
sheet are each imported twice through the command: the first run resolves rows to new
customers, to the live customer (same mobile, written differently) and to a customer an
earlier row of the same file made; the second run is a replay — every row consumed, nothing
applied, customer-master's figures unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl  # type: ignore[import-untyped]
import pytest
from confluent_kafka import Producer
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_cli.importer import event_id_for
from crm_cli.main import app
from crm_cli.stack import SERVICES, Stack, create_topics, free_port
from crmkit.cloudevents import PROTOBUF, encode_data, encode_headers
from crmkit.pii import phone_key
from typer.testing import CliRunner

pytestmark = [pytest.mark.kafka]

RUNNER = CliRunner()
MASTER = next(spec for spec in SERVICES if spec.name == "customer-master")
CSV = """\
record_id,name,phone,email,company,region,observed_at
c1,张伟,+86 138-1234-5678,zhangwei@sh6h.example.cn,上海市第六人民医院,上海,2023-05-18
c2,李娜,13912345678,,杭州云帆科技有限公司,浙江,2023-04-01 09:30
c3,李娜,139 1234 5678,lina@yunfan.example.cn,,,
c4,王芳,13712345678,,,,last spring
"""


@pytest.fixture
def master(broker: str, tmp_path: Path) -> Iterator[Stack]:
    """customer-master as its own process on the session broker, with a fresh database."""
    create_topics(broker)  # every registry topic (kept if another test made them)
    stack = Stack(
        var=tmp_path / "var",
        broker_port=int(broker.rsplit(":", 1)[1]),
        ports={MASTER.name: free_port()},
        extra_env={"CRM_CONSUMER_SESSION_TIMEOUT_MS": "3000"},
    )
    stack.start_service(MASTER)
    try:
        stack.wait_healthy(timeout=60)
        yield stack
    finally:
        stack.stop(timeout=20)


def stats(stack: Stack) -> dict[str, int]:
    """customer-master's table counts."""
    body: dict[str, int] = httpx.get(f"{stack.url(MASTER.name)}/stats", timeout=5).json()
    return body


def wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:.0f}s: {what}")
        time.sleep(0.1)


def run_import(
    broker: str, path: Path, out: Path, *extra: str
) -> tuple[int, dict[str, Any], list[dict[str, Any]], str]:
    """``crm import`` as a user runs it: exit code, summary, per-row outcomes, stderr."""
    result = RUNNER.invoke(
        app,
        [
            "import",
            str(path),
            "--bootstrap",
            broker,
            "--json",
            "--no-progress",
            "--out",
            str(out),
            "--settle",
            "2",
            *extra,
        ],
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])["import"]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return result.exit_code, summary, rows, result.stderr


def test_import_resolves_through_customer_master_and_a_second_run_changes_nothing(
    broker: str, master: Stack, tmp_path: Path
) -> None:
    form = LeadFormSubmitted(name="张伟", phone="13812345678", company="上海市第六人民医院", region="上海")
    producer = Producer({"bootstrap.servers": broker, "enable.idempotence": False})
    producer.produce(
        "crm.touchpoint.form.v1",
        key=phone_key("+8613812345678", secret="embedded-dev-key-change-me").encode(),
        value=encode_data(form, PROTOBUF),
        headers=encode_headers(event_id="form-1", source="/forms", event_type="crm.form.lead_submitted"),
    )
    assert producer.flush(10) == 0
    wait_for(lambda: stats(master)["customers"] == 1, timeout=30, what="the form's customer")
    url = master.url(MASTER.name)

    sheet = tmp_path / "销售一部.csv"
    sheet.write_text(CSV, encoding="utf-8")
    code, summary, rows, stderr = run_import(broker, sheet, tmp_path / "out1.jsonl")
    assert code == 2, stderr  # one row rejected
    assert "销售一部.csv:5: column 'observed_at': not a date" in stderr
    assert summary["rows_read"] == 4 and summary["produced"] == 3 and summary["rejected"] == 1
    assert summary["rejected_reasons"] == {
        "observed_at: not a date: …; write it as YYYY-MM-DD, optionally with a time": 1
    }
    assert (summary["new"], summary["existing"], summary["same_as_earlier_row"], summary["unchanged"]) == (1, 1, 1, 0)
    assert summary["complete"] and summary["consumed"] == 3
    by_record = {row["record_id"]: row for row in rows}
    zhang = httpx.get(f"{url}/customers/{by_record['c1']['customer_id']}", timeout=5).json()
    assert by_record["c1"]["outcome"] == "existing" and by_record["c1"]["matched_on"] == "phone"
    assert zhang["phone_e164"] == "+8613812345678" and zhang["email"] == "zhangwei@sh6h.example.cn"
    imported = next(r for r in zhang["source_records"] if r["id"] == event_id_for("销售一部", "c1"))
    assert imported["type"] == "crm.import.customer_record_imported"
    assert imported["observed_at"].startswith("2023-05-17T16:00")  # the row's date (China midnight), not now
    assert by_record["c2"]["outcome"] == "new" and by_record["c2"]["account_id"]
    assert by_record["c3"] == {**by_record["c3"], "outcome": "same_as_earlier_row"}
    assert by_record["c3"]["customer_id"] == by_record["c2"]["customer_id"]
    first = stats(master)
    assert (first["customers"], first["source_records"], first["leads"]) == (2, 4, 1)  # no lead from an import

    code, again, rows, _ = run_import(broker, sheet, tmp_path / "out2.jsonl")
    assert code == 2 and again["produced"] == 3 and again["consumed"] == 3 and again["complete"]
    assert (again["new"], again["existing"], again["unchanged"]) == (0, 0, 3)
    assert {row["outcome"] for row in rows} == {"unchanged"}
    assert stats(master) == first

    workbook = openpyxl.Workbook()
    sheet_xlsx = workbook.active
    sheet_xlsx.append(["record_id", "source", "name", "phone", "company", "industry", "observed_at"])
    sheet_xlsx.append(["x1", "老系统", "赵磊", 13512345678, "苏州精工制造股份有限公司", "制造业", "2022-11-02"])
    sheet_xlsx.append([2, "老系统", "張偉", "0086 13812345678", None, None, None])
    xlsx = tmp_path / "reps.xlsx"
    workbook.save(xlsx)
    code, summary, rows, stderr = run_import(broker, xlsx, tmp_path / "out3.jsonl")
    assert code == 0, stderr
    assert (summary["rows_read"], summary["produced"], summary["new"], summary["existing"]) == (2, 2, 1, 1)
    assert [row["outcome"] for row in rows] == ["new", "existing"]
    assert rows[1]["customer_id"] == by_record["c1"]["customer_id"]  # the live customer's mobile
    assert rows[0]["event_id"] == event_id_for("老系统", "x1")
    second = stats(master)
    assert (second["customers"], second["source_records"], second["leads"]) == (3, 6, 1)

    code, again, rows, _ = run_import(broker, xlsx, tmp_path / "out4.jsonl")
    assert code == 0 and (again["produced"], again["unchanged"], again["new"], again["existing"]) == (2, 2, 0, 0)
    assert stats(master) == second


def test_an_import_without_a_topic_or_broker_fails_with_a_reason(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("record_id,name\nr1,张伟\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["import", str(sheet), "--bootstrap", f"127.0.0.1:{free_port()}", "--no-progress"])
    assert result.exit_code == 2 and "cannot reach the broker" in result.stderr
