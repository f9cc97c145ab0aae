"""Streaming accounts: the block a company falls in, and the one account of its name a new block joins."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from crm.events.common.v1.identity_pb2 import Identity
from crm.events.touchpoint.v1.touchpoint_pb2 import CustomerRecordImported, LeadFormSubmitted
from crm_contracts import load_registry
from crmkit.cloudevents import PROTOBUF
from crmkit.db import Database
from crmkit.outbox import Outbox
from crmkit.rawsql import RawSql
from customer_master import account_merging, merging, placing, service, views
from customer_master.domain.accounts import (
    AccountDraft,
    account_draft,
    one_account_of_name,
    one_account_of_short_form,
    one_account_of_sound,
)
from sqlalchemy import Connection, text
from sqlmodel import Session

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HEFEI, ANHUI, BEIJING = "340100", "340000", "110000"


def draft(company: str, region: str = "") -> AccountDraft:
    """The account draft of a company name (fails the test when it names none)."""
    made = account_draft(company=company, region_code=region)
    assert made is not None
    return made


def test_a_bare_name_is_one_block_wherever_its_customer_lives() -> None:
    assert draft("隆丰软件", HEFEI).block == draft("隆丰软件", BEIJING).block == draft("隆丰软件有限公司").block
    assert draft("合肥隆丰软件有限公司").block != draft("隆丰软件(北京)有限公司").block  # two regions named
    assert draft("合肥隆丰软件有限公司").block != draft("隆丰软件", HEFEI).block  # joined by name, not by block
    assert draft("合肥隆丰软件有限公司").name_key == draft("隆丰软件").name_key
    assert (draft("合肥隆丰软件").named_region, draft("隆丰软件", HEFEI).named_region) == (HEFEI, "")
    assert draft("隆丰软件", HEFEI).region_code == HEFEI  # where the customer is: a hint among accounts of the name


def test_a_bare_name_joins_the_one_account_of_its_name_else_the_one_in_the_customer_s_region() -> None:
    assert one_account_of_name(draft("隆丰软件"), [("a", HEFEI)]) == "a"
    assert one_account_of_name(draft("隆丰软件", BEIJING), [("a", HEFEI)]) == "a"  # the one region it is found in
    two = [("a", HEFEI), ("b", BEIJING)]
    assert one_account_of_name(draft("隆丰软件"), two) is None
    assert one_account_of_name(draft("隆丰软件", BEIJING), two) == "b"
    assert one_account_of_name(draft("隆丰软件"), []) is None


def test_a_named_region_joins_a_compatible_account_or_the_only_one_without_a_region() -> None:
    assert one_account_of_name(draft("安徽隆丰软件"), [("a", HEFEI), ("b", BEIJING)]) == "a"  # province ~ its city
    assert one_account_of_name(draft("合肥隆丰软件"), [("b", BEIJING)]) is None  # a sibling elsewhere
    assert one_account_of_name(draft("合肥隆丰软件"), [("z", "")]) == "z"
    assert one_account_of_name(draft("合肥隆丰软件"), [("z", ""), ("b", BEIJING)]) is None
    assert one_account_of_name(draft("合肥隆丰软件"), [("a", HEFEI), ("c", ANHUI)]) is None  # two could be meant


def test_a_subsidiary_named_with_its_region_in_brackets_never_joins_a_region_less_account() -> None:
    group = [("g", "")]  # founded by the bare name '隆丰软件股份有限公司'
    assert one_account_of_name(draft("隆丰软件(合肥)有限公司"), group) is None  # the group's Hefei subsidiary
    assert one_account_of_name(draft("合肥隆丰软件有限公司"), group) == "g"  # the bare name's city dropped
    assert one_account_of_name(draft("隆丰软件(合肥)有限公司"), [("g", ""), ("h", HEFEI)]) == "h"


def test_a_new_name_joins_the_one_account_that_sounds_like_it() -> None:
    hefei = [("a", draft("隆丰软件").name_key, HEFEI)]
    assert draft("Longfeng Software Co., Ltd.").sound == draft("隆丰软件").sound == draft("longfeng ruanjian").sound
    assert one_account_of_sound(draft("Longfeng Software Co., Ltd.", HEFEI), hefei) == "a"  # its English name
    assert one_account_of_sound(draft("珑丰软件有限公司"), hefei) == "a"  # a homophone typo
    assert draft("龙凤软件").sound == draft("隆丰软件").sound
    assert one_account_of_sound(draft("龙凤软件"), hefei) is None  # one sound, but two characters apart
    assert one_account_of_sound(draft("longfeng ruanjian", BEIJING), hefei) is None  # a place that cannot be it
    two = [*hefei, ("b", draft("珑丰软件").name_key, HEFEI)]
    assert one_account_of_sound(draft("Longfeng Software"), two) is None  # two Han names could be meant
    latin = [("c", draft("Longfeng Software").name_key, "")]
    assert one_account_of_sound(draft("隆丰软件"), latin) == "c"  # the rendering came first


def test_a_short_trade_name_joins_the_one_account_of_its_full_form() -> None:
    full = [("a", draft("弘拓电子有限公司").name_key, "350200")]
    assert draft("弘拓").trade == draft("弘拓电子").trade == "弘拓" and draft("Hongtuo").trade == ""
    assert one_account_of_short_form(draft("弘拓"), full) == "a"
    assert one_account_of_short_form(draft("弘拓电子有限公司"), [("b", draft("弘拓").name_key, "")]) == "b"
    assert one_account_of_short_form(draft("弘拓", "420100"), full) is None  # a place that cannot be it
    both = [*full, ("c", draft("弘拓贸易").name_key, "350200")]
    assert one_account_of_short_form(draft("弘拓"), both) is None  # two firms open with it
    assert one_account_of_short_form(draft("弘远电子"), full) is None


def resolve_one(master_db: Database, touchpoint: service.Touchpoint) -> tuple[str, Outbox]:
    """Resolve one touchpoint in its own transaction: the account its customer ends in, and the events emitted."""
    outbox = Outbox(registry=load_registry(), source="/customer-master", content_type=PROTOBUF)
    with master_db.engine.begin() as connection:
        (outcome,) = service.resolve_touchpoints(connection=connection, outbox=outbox, touchpoints=[touchpoint])
    return outcome.customer.account_id, outbox


def form_touchpoint(event_id: str, *, name: str, phone: str, company: str, region: str = "") -> service.Touchpoint:
    """A lead form touchpoint naming a company."""
    form = LeadFormSubmitted(name=name, phone=phone, company=company, region=region)
    return service.Touchpoint(event_id, f"/forms#{event_id}", "crm.form.lead_submitted", "/forms", NOW, form)


def account_of(master_db: Database, event_id: str, *, name: str, phone: str, company: str, region: str = "") -> str:
    """The account customer-master gives one form touchpoint."""
    return resolve_one(master_db, form_touchpoint(event_id, name=name, phone=phone, company=company, region=region))[0]


def test_a_region_less_account_learns_its_place_so_a_sibling_elsewhere_stays_apart(master_db: Database) -> None:
    bare = account_of(master_db, "f1", name="王芳", phone="13911110001", company="隆丰软件")
    assert account_of(master_db, "f2", name="陈静", phone="13911110002", company="合肥隆丰软件有限公司") == bare
    assert account_of(master_db, "f3", name="刘洋", phone="13911110003", company="隆丰软件", region="合肥") == bare
    sibling = account_of(master_db, "f4", name="赵磊", phone="13911110004", company="隆丰软件(北京)有限公司")
    assert sibling != bare
    with master_db.engine.connect() as connection:
        regions = {row[0]: row[1] for row in connection.execute(text("SELECT id, region_code FROM accounts"))}
    assert regions == {bare: HEFEI, sibling: BEIJING}


def test_a_group_and_its_subsidiary_stay_two_accounts(master_db: Database) -> None:
    group = account_of(master_db, "g1", name="王芳", phone="13911110001", company="龙航餐饮股份有限公司", region="济南")
    shenzhen = account_of(master_db, "g2", name="陈静", phone="13911110002", company="龙航餐饮（深圳）有限公司")
    assert shenzhen != group
    again = account_of(master_db, "g3", name="刘洋", phone="13911110003", company="龙航餐饮(深圳)", region="深圳")
    assert again == shenzhen
    with master_db.engine.connect() as connection:
        regions = {row[0]: row[1] for row in connection.execute(text("SELECT id, region_code FROM accounts"))}
    assert regions == {group: "", shenzhen: "440300"}  # the group is not placed by its subsidiary


def submit(master_db: Database, event_id: str, *, name: str, phone: str, company: str, region: str = "") -> Outbox:
    """Resolve one form touchpoint; returns the events it emitted."""
    return resolve_one(master_db, form_touchpoint(event_id, name=name, phone=phone, company=company, region=region))[1]


def accounts_of_customers(master_db: Database) -> dict[str, str]:
    """Each live customer's account."""
    with master_db.engine.connect() as connection:
        return accounts_of_customers_on(connection)


def test_one_customer_naming_two_spellings_makes_their_accounts_one(master_db: Database) -> None:
    first = account_of(master_db, "m1", name="王芳", phone="13911110001", company="明泰电子有限公司", region="西安")
    typo = account_of(master_db, "m2", name="陈静", phone="13911110002", company="明秦电子", region="西安")
    colleague = account_of(master_db, "m3", name="刘洋", phone="13911110003", company="明秦电子", region="西安")
    assert typo == colleague != first  # a typo that sounds different founds an account of its own
    events = submit(master_db, "m4", name="陈静", phone="13911110002", company="明泰电子", region="西安")
    assert set(accounts_of_customers(master_db).values()) == {first}  # the older account survives
    assert [row.type for row in events.rows].count("crm.customer.account_merged") == 1
    with master_db.engine.connect() as connection:
        survivor, absorbed, evidence, moved = connection.execute(
            text("SELECT survivor_id, absorbed_id, evidence, moved_customer_ids FROM account_merges")
        ).one()
        gone = connection.execute(text("SELECT merged_into FROM accounts WHERE id = :id"), {"id": typo}).scalar()
        colleague_id = connection.execute(text("SELECT customer_id FROM source_records WHERE id = 'm3'")).scalar()
    assert (survivor, absorbed, gone) == (first, typo, first)
    assert {item["rule"] for item in json.loads(evidence)} >= {"company_close", "same_customer"}
    assert json.loads(moved) == [colleague_id]  # 陈静 moved with her record; her colleague with the merge
    updated = [row.aggregateid for row in events.rows if row.type == "crm.customer.updated"]
    assert colleague_id in updated  # with the new account id
    with Session(master_db.engine) as session:
        gone_view = views.account_detail(session=session, account_id=typo)
        kept_view = views.account_detail(session=session, account_id=first)
    assert gone_view is not None and gone_view["merged_into"] == first
    assert kept_view is not None and kept_view["merges"][0]["absorbed_id"] == typo
    assert len(kept_view["customer_ids"]) == 3
    later = account_of(master_db, "m5", name="赵磊", phone="13911110005", company="明秦电子", region="西安")
    assert later == first  # a lookup that finds the absorbed account answers with the survivor


def test_a_customer_naming_a_branch_elsewhere_keeps_both_accounts(master_db: Database) -> None:
    hefei = account_of(master_db, "b1", name="王芳", phone="13911110001", company="合肥隆丰软件有限公司")
    beijing = account_of(master_db, "b2", name="陈静", phone="13911110002", company="隆丰软件(北京)有限公司")
    events = submit(master_db, "b3", name="王芳", phone="13911110001", company="隆丰软件(北京)有限公司")
    assert not [row for row in events.rows if row.type == "crm.customer.account_merged"]
    assert set(accounts_of_customers(master_db).values()) == {beijing}  # her latest company
    with master_db.engine.connect() as connection:
        assert not connection.execute(text("SELECT id FROM accounts WHERE merged_into != ''")).all()
    assert hefei != beijing


def test_a_customer_belongs_to_the_account_most_of_its_records_name(master_db: Database) -> None:
    def company(event_id: str, name: str) -> str:
        return account_of(master_db, event_id, name="王芳", phone="13911110001", company=name, region="合肥")

    longfeng = {company(f"v{i}", "合肥隆丰软件有限公司") for i in range(3)}
    assert len(longfeng) == 1
    assert company("v3", "北京博方咨询有限公司") in longfeng  # one record naming another firm: three to one
    assert company("v4", "北京博方咨询有限公司") in longfeng
    bofang = company("v5", "北京博方咨询有限公司")  # three to three: her latest company's account
    assert bofang not in longfeng
    with master_db.engine.connect() as connection:
        votes = dict(connection.execute(text("SELECT id, account_id FROM source_records")).all())
    assert [votes[f"v{i}"] for i in range(6)] == [*[next(iter(longfeng))] * 3, *[bofang] * 3]


SHANGHAI_CODE, SHANGHAI_OTHER_CODE, BEIJING_CODE = "91310000MA1FL8XQ37", "91310000MA1FL9XQ3E", "91110000MA1FL8XQ3R"
JINAN_CODE = "91370100MA1FL8XQ35"


def imported(master_db: Database, event_id: str, *, name: str, phone: str, company: str, code: str, region: str) -> str:
    """The account customer-master gives one imported sheet row stating a credit code."""
    row = CustomerRecordImported(
        identity=Identity(phone=phone),
        record_id=event_id,
        source="sheet",
        name=name,
        company=company,
        credit_code=code,
        region=region,
    )
    touchpoint = service.Touchpoint(
        event_id, f"sheet#{event_id}", "crm.import.customer_record_imported", "/import", NOW, row
    )
    return resolve_one(master_db, touchpoint)[0]


def test_a_credit_code_is_an_account_s_exact_key(master_db: Database) -> None:
    named = account_of(master_db, "c1", name="王芳", phone="13911110001", company="上海宇峰物流有限公司")
    coded = imported(
        master_db, "c2", name="陈静", phone="13911110002", company="宇峰物流", code=SHANGHAI_CODE, region="上海"
    )
    assert coded == named  # the account of its name had no code: it takes this one
    other = imported(
        master_db,
        "c3",
        name="刘洋",
        phone="13911110003",
        company="上海宇峰物流",
        code=SHANGHAI_OTHER_CODE,
        region="上海",
    )
    assert other != named  # one name, another registered entity
    again = imported(
        master_db,
        "c4",
        name="赵磊",
        phone="13911110004",
        company="Yufeng Logistics",
        code=SHANGHAI_OTHER_CODE,
        region="",
    )
    assert again == other  # whatever the name says, the code names the account
    with master_db.engine.connect() as connection:
        codes = dict(connection.execute(text("SELECT id, credit_code FROM accounts")).all())
    assert codes == {named: SHANGHAI_CODE, other: SHANGHAI_OTHER_CODE}


def test_an_account_takes_no_code_registered_where_it_cannot_be(master_db: Database) -> None:
    shanghai = account_of(master_db, "d1", name="王芳", phone="13911110001", company="上海宇峰物流有限公司")
    beijing = imported(
        master_db, "d2", name="陈静", phone="13911110002", company="宇峰物流", code=BEIJING_CODE, region="上海"
    )
    assert beijing != shanghai  # a code registered in Beijing is another firm of that name


def test_an_account_merge_undone_restores_both_and_is_not_made_again(master_db: Database) -> None:
    first = account_of(master_db, "u1", name="王芳", phone="13911110001", company="明泰电子有限公司", region="西安")
    typo = account_of(master_db, "u2", name="陈静", phone="13911110002", company="明秦电子", region="西安")
    colleague = account_of(master_db, "u3", name="刘洋", phone="13911110003", company="明秦电子", region="西安")
    submit(master_db, "u4", name="陈静", phone="13911110002", company="明泰电子", region="西安")
    with master_db.engine.connect() as connection:
        merge_id = connection.execute(text("SELECT id FROM account_merges")).scalar_one()
        colleague_id = connection.execute(text("SELECT customer_id FROM source_records WHERE id = 'u3'")).scalar()
    outbox = Outbox(registry=load_registry(), source="/customer-master", content_type=PROTOBUF)
    with master_db.engine.begin() as connection:
        account_merging.unmerge_accounts(
            connection=connection, outbox=outbox, merge_id=merge_id, reason="two firms", now=NOW
        )
    assert [row.type for row in outbox.rows] == ["crm.customer.account_unmerged", "crm.customer.updated"]
    assert accounts_of_customers(master_db)[colleague_id] == typo == colleague  # back where the merge found it
    with master_db.engine.connect() as connection:
        live = dict(connection.execute(text("SELECT id, merged_into FROM accounts")).all())
    assert live == {first: "", typo: ""}
    again = submit(master_db, "u5", name="陈静", phone="13911110002", company="明秦电子", region="西安")
    assert "crm.customer.account_merged" not in [row.type for row in again.rows]  # a person said two
    with master_db.engine.begin() as connection, pytest.raises(merging.MergeConflict):
        account_merging.unmerge_accounts(connection=connection, outbox=outbox, merge_id=merge_id, reason="", now=NOW)


def test_a_merged_customer_belongs_to_the_account_most_of_its_pooled_records_name(master_db: Database) -> None:
    mingtai = account_of(master_db, "p1", name="王芳", phone="13911110001", company="明泰电子", region="西安")
    mingqin = account_of(master_db, "p2", name="王芳", phone="13911110002", company="明秦电子", region="西安")
    assert account_of(master_db, "p3", name="王芳", phone="13911110002", company="明秦电子", region="西安") == mingqin
    with master_db.engine.connect() as connection:
        holders = dict(connection.execute(text("SELECT id, customer_id FROM source_records")).all())
    outbox = Outbox(registry=load_registry(), source="/customer-master", content_type=PROTOBUF)
    with master_db.engine.begin() as connection:
        merging.merge_customers(
            connection=connection,
            outbox=outbox,
            survivor_id=holders["p1"],
            absorbed_id=holders["p2"],
            reason="t",
            now=NOW,
        )
        assert accounts_of_customers_on(connection)[holders["p1"]] == mingtai  # a merge keeps the survivor's
        placing.recount(sql=RawSql(connection), outbox=outbox, customer_ids=[holders["p1"]], now=NOW)
        assert accounts_of_customers_on(connection)[holders["p1"]] == mingqin  # two records to one
    assert outbox.rows[-1].type == "crm.customer.updated"


def accounts_of_customers_on(connection: Connection) -> dict[str, str]:
    """Each live customer's account, read in an open transaction."""
    rows = connection.execute(text("SELECT id, account_id FROM customers WHERE merged_into = ''"))
    return {row[0]: row[1] for row in rows}


def test_a_bare_name_with_a_credit_code_is_placed_where_the_code_was_registered(master_db: Database) -> None:
    jinan = account_of(master_db, "j1", name="王芳", phone="13911110001", company="济南市龙航餐饮管理有限公司")
    account_of(master_db, "j0", name="赵磊", phone="13911110009", company="深圳市龙航餐饮管理有限公司")  # a namesake
    coded = imported(
        master_db, "j2", name="陈静", phone="13911110002", company="龙航餐饮管理", code=JINAN_CODE, region="深圳"
    )
    assert coded == jinan  # she lives in Shenzhen; the firm is registered in Jinan


def test_a_group_placed_by_its_credit_code_never_takes_its_subsidiary_elsewhere(master_db: Database) -> None:
    group = account_of(master_db, "t1", name="王芳", phone="13911110001", company="天安贸易股份有限公司")
    coded = imported(
        master_db, "t2", name="陈静", phone="13911110002", company="天安贸易", code=BEIJING_CODE, region=""
    )
    assert coded == group  # the group's bare name, stated with its code: registered in Beijing, placed nowhere by name
    xiamen = account_of(master_db, "t3", name="刘洋", phone="13911110003", company="天安贸易（厦门）有限公司")
    assert xiamen != group
    events = submit(master_db, "t4", name="刘洋", phone="13911110003", company="天安贸易", region="厦门")
    assert not [row for row in events.rows if row.type == "crm.customer.account_merged"]  # her dropped city ties
    with master_db.engine.connect() as connection:  # the two, but Beijing and Xiamen cannot be one place
        assert not connection.execute(text("SELECT id FROM accounts WHERE merged_into != ''")).all()
