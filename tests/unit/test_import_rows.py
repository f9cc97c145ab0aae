"""``crm import``: rows → CustomerRecordImported events, malformed rows rejected by line, customer-master's view.

No broker here: the mapping, the row checks, and what customer-master's ``observe`` and
``resolve_touchpoints`` make of an imported record (tests/integration/test_import_live.py
runs the real thing).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from crm.events.touchpoint.v1.touchpoint_pb2 import CustomerRecordImported, LeadFormSubmitted
from crm_cli.importer import (
    IMPORT_TOPIC,
    IMPORT_TYPE,
    ImportFailed,
    ImportRow,
    ce_source_for,
    event_id_for,
    parse_observed_at,
    read_rows,
    to_row,
)
from crm_contracts import load_registry
from crmkit.cloudevents import PROTOBUF, decode, encode_data, encode_headers
from crmkit.db import Database
from crmkit.outbox import Outbox, OutboxRow
from customer_master import service
from customer_master.batch import RowError
from customer_master.domain.dedupe import SourceRecord
from customer_master.domain.identity import IdentityKey
from customer_master.domain.resolution import Outcome
from customer_master.models import Base
from sqlalchemy import select

REGISTRY = load_registry()
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TABLES = Base.metadata.tables


def row_of(**fields: str) -> ImportRow:
    """The accepted row for one record (fails the test when it is rejected)."""
    result = to_row(SourceRecord(**fields), file="sheet.csv", line=2, default_source="sheet", now=NOW)
    assert isinstance(result, ImportRow), result
    return result


def error_of(**fields: str) -> RowError:
    """The rejection of one record (fails the test when it is accepted)."""
    result = to_row(SourceRecord(**fields), file="sheet.csv", line=7, default_source="sheet", now=NOW)
    assert isinstance(result, RowError), result
    return result


# --- the mapping --------------------------------------------------------------------------


def test_every_column_lands_in_the_message_and_the_event_id_is_derived() -> None:
    row = row_of(
        record_id="r1",
        source="excel-sh",
        name="张伟",
        phone="138 1234 5678",
        email="ZW@Example.cn",
        company="上海市第六人民医院",
        credit_code="12310000425023580B",
        unionid="oU-1",
        wecom_external_userid="wm-1",
        region="沪",
        industry="卫生",
        address="宜山路600号",
        observed_at="2023-05-18 10:00",
    )
    message = row.message
    assert (message.record_id, message.source, message.name, message.company) == (
        "r1",
        "excel-sh",
        "张伟",
        "上海市第六人民医院",
    )
    assert (message.credit_code, message.region, message.industry, message.address) == (
        "12310000425023580B",
        "沪",
        "卫生",
        "宜山路600号",
    )
    identity = message.identity
    assert (identity.phone, identity.email, identity.unionid, identity.wecom_external_userid) == (
        "138 1234 5678",
        "ZW@Example.cn",
        "oU-1",
        "wm-1",
    )
    observed = datetime(2023, 5, 18, 2, 0, tzinfo=UTC)  # 10:00 in China
    assert message.observed_at.ToDatetime(tzinfo=UTC) == observed and row.time == observed
    assert (
        row.event_id == event_id_for("excel-sh", "r1") == row_of(record_id="r1", source="excel-sh", name="x").event_id
    )
    assert row.event_id != event_id_for("excel-bj", "r1") and row.event_id != event_id_for("excel-sh", "r2")
    assert row.key.startswith("ph_") and "1381234" not in row.key  # keyed by the unionid's HMAC, never a phone
    assert row.line == 2 and row.source == "excel-sh"


def test_the_message_satisfies_the_registry_and_round_trips_as_a_cloud_event() -> None:
    row = row_of(record_id="r1", name="李娜", company="杭州云帆科技有限公司")
    spec = REGISTRY.event(IMPORT_TOPIC, IMPORT_TYPE)
    assert spec is not None and spec.message_class is CustomerRecordImported
    event = decode(
        registry=REGISTRY,
        topic=IMPORT_TOPIC,
        value=encode_data(row.message, PROTOBUF),
        headers=encode_headers(
            event_id=row.event_id, source=ce_source_for(row.source), event_type=IMPORT_TYPE, time=row.time
        ),
    )
    assert event.data == row.message and event.time == NOW  # no observed_at: the import's time
    assert not row.message.HasField("observed_at") and row.message.source == "sheet"  # the default source


def test_rows_of_one_person_share_a_key_and_a_phone_is_never_the_key() -> None:
    one = row_of(record_id="a", phone="13812345678", name="张伟")
    two = row_of(record_id="b", phone="+86 138-1234-5678", email="zw@a.cn")
    assert one.key == two.key and "13812345678" not in one.key
    nobody = row_of(record_id="c", name="王芳")
    assert nobody.key.startswith("ph_") and nobody.key != one.key


def test_a_source_with_spaces_or_chinese_is_a_uri_reference() -> None:
    assert (
        ce_source_for("客户表 王芳/2023") == "/crm-cli/import/%E5%AE%A2%E6%88%B7%E8%A1%A8%20%E7%8E%8B%E8%8A%B3%2F2023"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-18", datetime(2023, 5, 17, 16, 0, tzinfo=UTC)),
        ("2023/5/18 14:30", datetime(2023, 5, 18, 6, 30, tzinfo=UTC)),
        ("2023.05.18T14:30:05", datetime(2023, 5, 18, 6, 30, 5, tzinfo=UTC)),
        ("2023年5月18日", datetime(2023, 5, 17, 16, 0, tzinfo=UTC)),
        ("2023-05-18T06:30:00Z", datetime(2023, 5, 18, 6, 30, tzinfo=UTC)),
        (" 2023-05-18 09:00+09:00 ", datetime(2023, 5, 18, 0, 0, tzinfo=UTC)),
    ],
)
def test_observed_at_forms(text: str, expected: datetime) -> None:
    assert parse_observed_at(text) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "18/05/2023", "2023-13-01", "2023-02-30", "20230518", "2023-05-18 25:00"]
)
def test_observed_at_that_is_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_observed_at(text)


def test_malformed_records_are_rejected_with_column_and_reason() -> None:
    bad_date = error_of(record_id="r1", name="张伟", observed_at="last spring")
    assert (bad_date.line, bad_date.column) == (7, "observed_at") and "not a date" in bad_date.message
    future = error_of(record_id="r1", name="张伟", observed_at=(NOW + timedelta(days=3)).date().isoformat())
    assert future.column == "observed_at" and "future" in future.message
    empty = error_of(record_id="r1", region="上海", industry="卫生", credit_code="12310000425023580B")
    assert "nothing identifies a customer" in empty.message
    assert str(empty).startswith("sheet.csv:7:")


# --- files: the dedupe reader plus the import checks ----------------------------------------

CSV = """\
record_id,source,name,phone,email,company,region,observed_at
r1,,张伟,13812345678,,上海市第六人民医院,上海,2023-05-18
r2,,李娜,,lina@example.cn,,,2023-02-30
,,王芳,13712345678,,,,
r3,,王芳,13712345678,,,,
r3,,王芳,13712345679,,,,
r4,crm-2019,,,,,北京,
r5,,周先生,13612345678,,,,2023-06-01T08:00:00Z
r6,too,many,cells,,,,,,
"""


def test_a_csv_reports_every_rejected_row_by_line_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "销售一部.csv"
    path.write_text(CSV, encoding="utf-8")
    result = read_rows(path, now=NOW)
    assert [row.record_id for row in result.rows] == ["r1", "r3", "r5"]
    assert [row.line for row in result.rows] == [2, 5, 8]
    assert {row.source for row in result.rows} == {"销售一部"}  # the file's name when no source cell
    assert [(error.line, error.column) for error in result.errors] == [
        (3, "observed_at"),
        (4, "record_id"),
        (6, "record_id"),
        (7, ""),
        (9, ""),
    ]
    assert "duplicate record_id" in result.errors[2].message and "expected 8 cells" in result.errors[4].message
    assert result.read == 8
    named = read_rows(path, now=NOW, default_source="legacy-crm")
    assert {row.source for row in named.rows} == {"legacy-crm"}
    assert [row.event_id for row in named.rows] != [row.event_id for row in result.rows]


def test_an_xlsx_sheet_is_read_with_sheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "reps.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["record_id", "name", "phone", "company", "observed_at"])
    sheet.append(["x1", "张伟", 13812345678, "上海华为技术有限公司", "2023-05-18"])
    sheet.append([None, None, None, None, None])
    sheet.append(["x2", None, None, None, "2023-05-18"])
    sheet.append([3, "李娜", "13912345678", None, None])
    workbook.save(path)
    result = read_rows(path, now=NOW)
    assert [(row.record_id, row.line) for row in result.rows] == [("x1", 2), ("3", 5)]
    assert result.rows[0].message.identity.phone == "13812345678"
    assert [error.line for error in result.errors] == [4]
    assert result.errors[0].message.startswith("nothing identifies a customer")


def test_excel_date_cells_are_read_as_dates_in_china_time(tmp_path: Path) -> None:
    path = tmp_path / "dates.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["record_id", "name", "phone", "observed_at"])
    sheet.append(["d1", "张伟", "13812345678", datetime(2023, 5, 18)])  # a date cell
    sheet.append(["d2", "李娜", "13912345678", datetime(2023, 5, 18, 14, 30)])  # a date-and-time cell
    workbook.save(path)
    result = read_rows(path, now=NOW)
    assert result.errors == []
    assert [row.time for row in result.rows] == [
        datetime(2023, 5, 17, 16, 0, tzinfo=UTC),
        datetime(2023, 5, 18, 6, 30, tzinfo=UTC),
    ]


def test_an_unreadable_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("record_id,姓名\nr1,张伟\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="unknown column"):
        read_rows(path)
    with pytest.raises(ImportFailed, match=r"\.xls is not supported"):
        read_rows(tmp_path / "old.xls")


# --- customer-master's side ----------------------------------------------------------------


def test_observe_takes_keys_and_profile_as_a_form_does() -> None:
    row = row_of(
        record_id="r1",
        name=" 张伟 ",
        phone="+86 138-1234-5678",
        email=" ZW@Example.CN ",
        unionid="oU-1",
        wecom_external_userid="wm-1",
        company="上海华为技术有限公司",
        region="shanghai",
        industry="卫生",
    )
    observation = service.observe(row.message)
    assert observation.keys == (
        IdentityKey("unionid", "oU-1"),
        IdentityKey("wecom_external_userid", "wm-1"),
        IdentityKey("phone", "+8613812345678"),
        IdentityKey("email", "zw@example.cn"),
    )
    assert dict(observation.profile) == {
        "name": "张伟",
        "phone_e164": "+8613812345678",
        "email": "zw@example.cn",
        "company": "上海华为技术有限公司",
        "region_code": "310000",
        "industry": "卫生",
    }
    landline = service.observe(row_of(record_id="r2", phone="021-64369181", name="前台").message)
    assert landline.keys == () and landline.profile["phone_e164"] == "+862164369181"


def _as_consumed(row: ImportRow) -> service.Touchpoint:
    """The touchpoint customer-master's consumer hands over for this row's CloudEvent."""
    event = decode(
        registry=REGISTRY,
        topic=IMPORT_TOPIC,
        value=encode_data(row.message, PROTOBUF),
        headers=encode_headers(
            event_id=row.event_id, source=ce_source_for(row.source), event_type=IMPORT_TYPE, time=row.time
        ),
    )
    return service.Touchpoint(event.id, event.dedupe_key, event.type, event.source, event.time, event.data)


def _feed(master_db: Database, *touchpoints: service.Touchpoint) -> tuple[list[Outcome], list[OutboxRow]]:
    outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type=PROTOBUF)
    with master_db.session() as session:
        session.begin()
        outcomes = service.resolve_touchpoints(connection=session.connection(), outbox=outbox, touchpoints=touchpoints)
        outbox.write(session, master_db.tables.outbox)
        session.commit()
    return outcomes, outbox.rows


def test_an_imported_record_joins_the_customer_with_its_mobile_opens_no_lead_and_replays_as_nothing(
    master_db: Database,
) -> None:
    form = LeadFormSubmitted(name="张伟", phone="13812345678", company="上海市第六人民医院", region="上海")
    (live,), live_rows = _feed(
        master_db, service.Touchpoint("f1", "/forms#f1", "crm.form.lead_submitted", "/forms", NOW, form)
    )
    assert "crm.lead.created" in [r.type for r in live_rows]
    row = row_of(record_id="r1", name="张伟", phone="+86 138 1234 5678", email="zw@sh6h.cn", observed_at="2023-05-18")
    (imported,), rows = _feed(master_db, _as_consumed(row))
    assert imported.customer.id == live.customer.id and not imported.created and imported.matched_on == "phone"
    assert imported.customer.email == "zw@sh6h.cn" and imported.customer.name == "张伟"
    assert [r.type for r in rows] == ["crm.customer.resolved", "crm.customer.updated"]  # no lead
    with master_db.engine.connect() as connection:
        source = connection.execute(
            select(TABLES["source_records"]).where(TABLES["source_records"].c.id == row.event_id)
        ).one()
        leads = connection.execute(select(TABLES["leads"])).all()
    assert source.observed_at.replace(tzinfo=UTC) == datetime(2023, 5, 17, 16, 0, tzinfo=UTC)  # the row's date
    assert source.type == IMPORT_TYPE and source.source == "/crm-cli/import/sheet" and len(leads) == 1
    (again,), replay_rows = _feed(master_db, _as_consumed(row))  # imported a second time
    assert again.customer.id == live.customer.id and replay_rows == []


def test_junk_becomes_a_junk_customer_of_its_own_that_no_real_record_joins(master_db: Database) -> None:
    """As in the batch engine: test and placeholder records are flagged and never share a customer with real ones."""
    (real,), _ = _feed(master_db, _as_consumed(row_of(record_id="r1", name="王芳", phone="13912345678")))
    staff_test = row_of(record_id="r2", name="测试", phone="13912345678")  # a rep trying the form with a real mobile
    placeholder = row_of(record_id="r3", name="李娜", phone="13800000000")
    (first,), rows = _feed(master_db, _as_consumed(staff_test))
    (second,), _ = _feed(master_db, _as_consumed(placeholder))
    (third,), _ = _feed(master_db, _as_consumed(row_of(record_id="r4", name="陈静", phone="13800000000")))
    assert first.customer.junk and first.created and first.matched_on == "junk"
    assert first.customer.id != real.customer.id and first.customer.account_id == ""
    assert len({first.customer.id, second.customer.id, third.customer.id}) == 3  # a placeholder phone links nobody
    updated = [r for r in rows if r.type == "crm.customer.updated"]
    assert len(updated) == 1
    (again,), _ = _feed(master_db, _as_consumed(row_of(record_id="r5", name="王芳", phone="+86 139 1234 5678")))
    assert again.customer.id == real.customer.id and not again.customer.junk
    with master_db.engine.connect() as connection:
        keys = connection.execute(select(TABLES["identity_keys"].c.customer_id)).scalars().all()
        blocks = connection.execute(select(TABLES["block_keys"].c.customer_id).distinct()).scalars().all()
    assert set(keys) == {real.customer.id} and set(blocks) == {real.customer.id}  # junk is bound and blocked nowhere


def test_a_replayed_junk_record_is_attributed_to_its_junk_customer(master_db: Database) -> None:
    row = row_of(record_id="r1", name="test", email="test@test.com")
    (junk,), _ = _feed(master_db, _as_consumed(row))
    (again, twice), replay_rows = _feed(master_db, _as_consumed(row), _as_consumed(row))
    assert again.customer.id == twice.customer.id == junk.customer.id
    assert again.matched_on == "replay" and not again.created and replay_rows == []
    with master_db.engine.connect() as connection:
        assert len(connection.execute(select(TABLES["customers"])).all()) == 1


def test_a_person_first_known_by_a_nickname_is_found_by_the_full_name_one_record_gave(master_db: Database) -> None:
    """Duplicates are scored record against record, as ``crm dedupe`` does, not golden record against golden."""
    (nickname,), _ = _feed(
        master_db,
        _as_consumed(row_of(record_id="r1", name="霞霞", phone="15831988965", company="维星医疗器械（重庆）")),
    )
    company = "维星医疗器械（重庆）有限责任公司"
    full = row_of(record_id="r2", name="王倩霞", phone="15831988965", company=company, observed_at="2023-01-01")
    (same,), _ = _feed(master_db, _as_consumed(full))
    assert same.customer.id == nickname.customer.id and same.customer.name == "霞霞"  # the newer record's name stays
    wecom = row_of(record_id="r3", name="王倩霞", unionid="oU-wqx", company="维星医疗器械（重庆）")
    (arrived,), rows = _feed(master_db, _as_consumed(wecom))
    assert "crm.customer.merged" in [r.type for r in rows]
    with master_db.engine.connect() as connection:
        holder = connection.execute(
            select(TABLES["source_records"].c.customer_id).where(TABLES["source_records"].c.id == wecom.event_id)
        ).scalar_one()
    assert arrived.created and holder == nickname.customer.id  # the older customer survives


def test_a_team_mailbox_is_evidence_not_a_key(master_db: Database) -> None:
    """Colleagues share hr@ or sales@ as they share a switchboard: two people stay two customers."""
    (first,), _ = _feed(
        master_db, _as_consumed(row_of(record_id="r1", name="张雪", email="admin@jinan.cn", company="金安软件"))
    )
    (second,), _ = _feed(master_db, _as_consumed(row_of(record_id="r2", name="谢磊浩", email="Admin@Jinan.cn")))
    assert first.customer.id != second.customer.id and second.matched_on == "new"
