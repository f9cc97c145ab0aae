"""Junk records ('测试', 'demo', 'test', placeholder phones): flagged with the reason, never merged.

Seed 002 §客户数据混乱: test companies and empty or fake phones fill the customer table.
:func:`junk_reasons` looks at the raw fields and says why a record is junk; an empty tuple
means it is not. A record is junk when a *field it has* is junk — an empty field alone is
incompleteness, measured elsewhere, not junk.
"""

from __future__ import annotations

import functools
import re

from customer_master.domain.companies import normalise_company
from customer_master.domain.names import normalise_name
from customer_master.domain.phones import classify_phone
from customer_master.domain.text import is_han, simplify

# Whole-value junk (after NFKC, lower case, spaces removed).
JUNK_VALUES = frozenset(
    {
        "测试",
        "测试用户",
        "测试客户",
        "测试公司",
        "测试账号",
        "test",
        "testing",
        "tester",
        "demo",
        "演示",
        "样例",
        "示例",
        "sample",
        "example",
        "asdf",
        "asd",
        "qwe",
        "zxc",
        "sdf",
        "qwer",
        "qwerty",
        "aaa",
        "abc",
        "xxx",
        "xx",
        "x",
        "无",
        "暂无",
        "未知",
        "不详",
        "某某",
        "null",
        "none",
        "nil",
        "n/a",
        "na",
        "-",
        "--",
        "...",
        "?",
        "??",
        "1",
        "11",
        "111",
        "123",
        "1234",
        "12345",
        "123456",
        "哈哈",
        "呵呵",
        "嗯",
        "啊",
        "随便",
        "不告诉你",
        "fake",
        "dummy",
        "foo",
        "bar",
        "foobar",
    }
)
# The textbook stand-ins for a person (John Doe): junk as a whole name only ('张三丰' is a name).
PLACEHOLDER_PEOPLE = frozenset({"张三", "李四", "王五", "张三李四", "某人"})
# Words that mark junk anywhere in a name or company ('测试公司2', 'Demo Corp', 'test_user', 'ceshi01', '勿删').
_JUNK_WORDS = re.compile(
    r"测试|演示|样例|示例|勿删|别删|不要删|不能删|请勿删|"
    r"(?<![a-z])(?:test|tset|tets|ceshi|demo|dummy|fake|sample)(?![a-z])",
    re.IGNORECASE,
)
# Rows of a keyboard: four or more neighbouring keys, left to right, are a mash ('asdf', 'zxcv', 'hjkl').
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Trades that contain a junk word: '上海博远软件测试有限公司' is a testing company, not a test row.
_TRADE_WORDS = re.compile(r"软件测试|测试技术|测试设备|测试仪器|检验测试|检测测试|测试服务|测试系统|测试工程|testing")
_JUNK_EMAIL_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "test.com", "test.cn", "demo.com", "mailinator.com", "localhost"}
)
_JUNK_EMAIL_USERS = frozenset({"test", "demo", "fake", "noreply", "no-reply", "null", "asdf", "123", "123456"})


def _compact(raw: str) -> str:
    return "".join(simplify(raw).lower().split())


def is_keyboard_mash(text: str) -> bool:
    """Whether Latin ``text`` (lower case, digits ignored) is neighbouring keys of one keyboard row, maybe repeated."""
    letters = "".join(ch for ch in text if not ch.isdigit())
    if len(letters) < 4 or not (letters.isascii() and letters.isalpha()):
        return False
    for size in range(4, len(letters) + 1):  # the shortest run that repeats into the text: 'asdfasdf' → 'asdf'
        run = letters[:size]
        if len(letters) % size == 0 and run * (len(letters) // size) == letters:
            return any(run in row for row in _KEYBOARD_ROWS)
    return False


def _placeholder_value(field: str, text: str) -> str:
    """Why compact ``text``, the whole of a field, is a stand-in ('asdf', 'qwe123'); "" if it is not."""
    if text in JUNK_VALUES:
        return f"{field} is a placeholder value {text!r}"
    if is_keyboard_mash(text):
        return f"{field} is a keyboard mash {text!r}"
    return ""


def _stand_in_reason(field: str, raw: str, text: str) -> str:
    """Why a name ('张三', 'asdf') or company ('asdf有限公司') is a stand-in as a whole; "" if it is not."""
    if reason := _placeholder_value(field, text):
        return reason
    if field == "name":
        person = normalise_name(raw).text
        return f"name is a placeholder person {person!r}" if person in PLACEHOLDER_PEOPLE else ""
    core = _compact(normalise_company(raw).core) if field == "company" else ""
    return _placeholder_value("company trade name", core) if core and core != text else ""


@functools.lru_cache(maxsize=1 << 16)
def text_junk_reason(field: str, raw: str) -> str:
    """Why the text of ``field`` (a name or company) is junk; "" if it looks real or is empty.

    In a company, a junk word inside a trade ('软件测试') does not count when a trade name
    opens it ('上海博远软件测试有限公司', '瑞汇测试技术').
    """
    text = _compact(raw)
    if not text:
        return ""
    if reason := _stand_in_reason(field, raw, text):
        return reason
    searched = simplify(raw)
    if field == "company":
        searched = _registered_trade_removed(searched)
    if match := _JUNK_WORDS.search(searched):
        return f"{field} contains {match.group(0).lower()!r}"
    if len(text) >= 3 and len(set(text)) == 1:
        return f"{field} is one repeated character"
    return ""


def _registered_trade_removed(company: str) -> str:
    """``company`` without its trade words when it reads as a company's name: a trade name with a legal
    form, or a Han trade name of two or more characters ('瑞汇测试技术（广州）', as reps shorten it)."""
    name = normalise_company(company)
    rest = _TRADE_WORDS.sub("", name.core)
    named = name.legal_form or sum(map(is_han, rest)) >= 2
    if named and _TRADE_WORDS.search(name.core) and len(rest.strip()) >= 2 and not _JUNK_WORDS.search(rest):
        return _TRADE_WORDS.sub("", company.lower())
    return company


def email_junk_reason(email: str) -> str:
    """Why a normalised e-mail is junk; "" if it looks real or is empty."""
    if "@" not in email:
        return ""
    user, domain = email.rsplit("@", 1)
    if domain in _JUNK_EMAIL_DOMAINS:
        return f"email domain {domain} is a test domain"
    if user in _JUNK_EMAIL_USERS:
        return f"email user {user!r} is a placeholder"
    return ""


def junk_reasons(*, name: str = "", company: str = "", phone: str = "", email: str = "") -> tuple[str, ...]:
    """Every reason the record is junk (raw fields), in field order; () for a real-looking record."""
    classified = classify_phone(phone)
    return junk_reasons_of(name, company, classified.reason if classified.kind == "placeholder" else "", email)


def junk_reasons_of(name: str, company: str, phone_reason: str, email: str) -> tuple[str, ...]:
    """:func:`junk_reasons` given the phone already classified (``phone_reason``: why it is a placeholder, or "")."""
    reasons = (
        text_junk_reason("name", name) if name else "",
        text_junk_reason("company", company) if company else "",
        phone_reason,
        email_junk_reason(simplify(email).lower()) if email else "",
    )
    return tuple(reason for reason in reasons if reason) if any(reasons) else ()
