"""``crm dedupe INPUT --out OUT.jsonl [--suggestions SUG.jsonl]``: JSONL and CSV in, errors by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm_cli.main import app
from customer_master.batch import InputError, load
from customer_master.domain.dedupe import account_id_for, customer_id_for
from typer.testing import CliRunner

RUNNER = CliRunner()
CSV = """\
record_id,name,phone,company,region,unionid
r1,张伟,13812345678,上海华为技术有限公司,沪,
r2,張偉,+86 138-1234-5678,华为技术（上海）有限公司,shanghai,oU1
r3,Zhang Wei,0086 13812345678,,,oU1
r4,测试,13800000000,测试公司,,
r5,李娜,13912345678,腾讯计算机系统有限公司杭州分公司,,
r6,王芳,13712345678,腾讯计算机系统有限公司深圳分公司,,
r7,周先生,13712345678,,,
"""


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _run(*args: str | Path) -> tuple[int, str]:
    result = RUNNER.invoke(app, ["dedupe", *map(str, args), "--no-progress"])
    return result.exit_code, result.output


def test_csv_story_end_to_end(tmp_path: Path) -> None:
    out, sug = tmp_path / "out.jsonl", tmp_path / "sug.jsonl"
    code, output = _run(_write(tmp_path, "in.csv", CSV), "--out", out, "--suggestions", sug)
    assert code == 0, output
    rows = _lines(out)
    assert [r["record_id"] for r in rows] == ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]
    assert set(rows[0]) == {"record_id", "customer_id", "account_id", "junk"}
    assert {r["customer_id"] for r in rows[:3]} == {customer_id_for("r1")}
    assert {r["account_id"] for r in rows[:3]} == {account_id_for("r1")}
    assert rows[3] == {"record_id": "r4", "customer_id": customer_id_for("r4"), "account_id": None, "junk": True}
    assert rows[4]["account_id"] != rows[5]["account_id"]
    [suggestion] = _lines(sug)
    assert suggestion["record_ids"] == ["r6", "r7"] and suggestion["kind"] == "customer"
    assert isinstance(suggestion["score"], float) and suggestion["evidence"]
    summary = json.loads(output.strip().splitlines()[-1])["dedupe"]
    assert summary["records"] == 7 and summary["customers"] == 5 and summary["junk"] == 1
    assert summary["rejected"] == 0 and summary["suggestions"] == 1


def test_jsonl_gives_the_same_answer_as_csv(tmp_path: Path) -> None:
    header, *body = CSV.splitlines()
    columns = header.split(",")
    jsonl = "\n".join(
        json.dumps({k: v for k, v in zip(columns, line.split(","), strict=True) if v}, ensure_ascii=False)
        for line in body
    )
    code_j, _ = _run(_write(tmp_path, "in.jsonl", jsonl + "\n\n"), "--out", tmp_path / "j.jsonl")
    code_c, _ = _run(_write(tmp_path, "in.csv", CSV), "--out", tmp_path / "c.jsonl")
    assert code_j == code_c == 0
    assert _lines(tmp_path / "j.jsonl") == _lines(tmp_path / "c.jsonl")


def test_csv_with_excel_bom_and_numeric_json_phone(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffrecord_id,phone\nb1,13812345678\n".encode())
    assert [r.record_id for r in load(path).records] == ["b1"]
    loaded = load(_write(tmp_path, "n.jsonl", '{"record_id": 7, "phone": 13812345678, "name": null}\n'))
    assert loaded.records[0].record_id == "7" and loaded.records[0].phone == "13812345678"


def test_bad_jsonl_rows_are_reported_by_line_and_skipped(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '{"record_id": "a", "name": "张伟"}',
            '{"record_id": "b", "nom": "x"}',
            "not json",
            "[1, 2]",
            '{"record_id": "a"}',
            '{"name": "no id"}',
            '{"record_id": "c", "phone": [1]}',
            '{"record_id": "d"}',
        ]
    )
    path = _write(tmp_path, "bad.jsonl", text)
    out = tmp_path / "out.jsonl"
    code, output = _run(path, "--out", out)
    assert code == 2
    assert f"{path}:2: column 'nom': unknown column" in output
    assert f"{path}:3: not valid JSON" in output
    assert f"{path}:4: expected a JSON object, got list" in output
    assert f"{path}:5: column 'record_id': duplicate record_id 'a'" in output
    assert f"{path}:6: column 'record_id': record_id is required" in output
    assert f"{path}:7: column 'phone': expected text or a number, got list" in output
    assert [r["record_id"] for r in _lines(out)] == ["a", "d"]
    assert json.loads(output.strip().splitlines()[-1])["dedupe"]["rejected"] == 6


def test_bad_csv_rows_name_their_physical_line(tmp_path: Path) -> None:
    text = 'record_id,name,address\nc1,张伟,"上海市\n徐汇区"\nc2,李娜\n,王芳,北京\nc3,赵六,杭州\n'
    loaded = load(_write(tmp_path, "rows.csv", text))
    assert [r.record_id for r in loaded.records] == ["c1", "c3"]
    assert loaded.lines == [2, 6]
    assert [(e.line, e.column) for e in loaded.errors] == [(4, ""), (5, "record_id")]
    assert "expected 3 cells, got 2" in str(loaded.errors[0])


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("h.csv", "record_id,nom\n1,x\n", ":1: column 'nom': unknown column"),
        ("h2.csv", "name,phone\n张伟,1\n", ":1: no record_id column"),
        ("x.xlsx", "", "not a readable XLSX workbook"),
        ("x.xls", "", "Excel 97 .xls is not supported"),
        ("x.parquet", "", "unknown input format '.parquet'"),
    ],
)
def test_unusable_files_exit_2_with_a_reason(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load(path)
    code, output = _run(path, "--out", tmp_path / "out.jsonl")
    assert code == 2 and message in output


def test_missing_input_and_wrong_encoding(tmp_path: Path) -> None:
    code, output = _run(tmp_path / "nope.csv", "--out", tmp_path / "o.jsonl")
    assert code == 2 and "cannot read" in output
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("record_id,name\ng1,张伟\n".encode("gb18030"))
    code, output = _run(gbk, "--out", tmp_path / "o.jsonl")
    assert code == 2 and "--encoding" in output
    code, output = _run(gbk, "--out", tmp_path / "o.jsonl", "--encoding", "gb18030")
    assert code == 0, output


def test_rerun_writes_identical_files(tmp_path: Path) -> None:
    source = _write(tmp_path, "in.csv", CSV)
    for name in ("a", "b"):
        assert _run(source, "--out", tmp_path / f"{name}.jsonl", "--suggestions", tmp_path / f"{name}.sug")[0] == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.sug").read_bytes() == (tmp_path / "b.sug").read_bytes()


def test_parallel_normalising_matches_sequential(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from customer_master import batch

    monkeypatch.setattr(batch, "PARALLEL_FROM", 4)
    monkeypatch.setattr(batch, "CHUNK", 3)
    records = load(_write(tmp_path, "in.csv", CSV)).records
    seen: list[int] = []
    forms = batch.normalise(records, workers=2, progress=lambda _phase, done, _total: seen.append(done))
    assert forms == batch.normalise(records, workers=1)
    assert seen == [3, 6, 7]
    code, _ = _run(tmp_path / "in.csv", "--out", tmp_path / "p.jsonl", "--workers", "2")
    assert code == 0


def test_progress_bar_path_gives_the_same_output(tmp_path: Path) -> None:
    source = _write(tmp_path, "in.csv", CSV)
    shown = RUNNER.invoke(app, ["dedupe", str(source), "--out", str(tmp_path / "bar.jsonl"), "--progress"])
    assert shown.exit_code == 0, shown.output
    assert _run(source, "--out", tmp_path / "plain.jsonl")[0] == 0
    assert (tmp_path / "bar.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
