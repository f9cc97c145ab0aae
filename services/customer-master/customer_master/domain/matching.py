"""Pairwise match scoring: two normalised records → one confidence in [0, 1] and its evidence.

Each comparison adds a weight in log-odds (a Fellegi–Sunter style sum); the score is the
logistic of ``PRIOR`` plus the weights, so every decision is the list of evidence that made
it. Comparisons are symmetric, hence so is the score.

Thresholds (seed 002 §客户数据混乱: 'merge prompt at 92% similarity'):

* ``score >= AUTO_MERGE`` (0.99) — merge automatically. Reached by one identifier that names
  a person on its own (unionid, WeCom external user id, a real-name mobile that nothing
  contradicts; credit code for accounts), or an e-mail plus a second agreeing field (name,
  company — 'phone + full company name'); for accounts, one full company name with its
  region (names are unique per registration region) or any name with a matching legal form.
* ``REVIEW <= score < AUTO_MERGE`` (0.92 ≤ s < 0.99) — a merge suggestion for the review
  queue: an e-mail alone (mailboxes are shared: info@…); a mobile whose placeholder name has
  another surname; for accounts, one company name without region or legal form.
* below 0.92 — distinct.

Caps, applied after the sum: a junk record against a real one scores at most
``JUNK_CAP`` (junk never merges into a real customer); two junk records at most just
below ``AUTO_MERGE`` (a person reviews them). A landline or switchboard is evidence, never
an identifier: colleagues share it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Final, Literal

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio

from customer_master.domain.companies import CompanyName, company_pinyin, normalise_company
from customer_master.domain.credit_codes import normalise_credit_code
from customer_master.domain.junk import junk_reasons, junk_reasons_of
from customer_master.domain.names import COMMON_FULL_NAMES, NameKind, PersonName, name_pinyin, normalise_name
from customer_master.domain.normalise import email_domain, nfkc, normalise_email
from customer_master.domain.phones import classify_phone, phone_parts
from customer_master.domain.regions import normalise_region, region_compatible
from customer_master.domain.text import is_han

Kind = Literal["customer", "account"]
Decision = Literal["auto_merge", "review", "distinct"]

AUTO_MERGE = 0.99
REVIEW = 0.92
JUNK_CAP = 0.5
PRIOR = -6.0  # log-odds that two records picked at random are one customer (~0.25%)

# Log-odds weights, named so the evidence list can cite them.
WEIGHTS: dict[str, float] = {
    "unionid_equal": 14.0,
    "unionid_differs": -10.0,
    "wecom_equal": 13.0,
    "wecom_differs": -8.0,
    "credit_code_equal": 14.0,
    "credit_code_differs": -12.0,
    # A mainland mobile is registered to one person (实名制) and the streaming resolver keys on
    # it: alone it merges (PRIOR + 10.7 → 0.991); a differing full name (−3) makes it distinct,
    # a placeholder of another surname (−1) a review.
    "mobile_equal": 10.7,
    "mobile_differs": -1.5,
    "email_equal": 9.0,
    "email_differs": -1.0,
    "landline_equal": 1.0,
    "landline_equal_account": 3.0,
    "name_equal": 3.0,
    "name_close": 1.5,
    "name_pinyin_equal": 2.0,
    "name_surname_fits": 0.5,
    "name_surname_differs": -1.0,
    "name_differs": -3.0,
    "company_key_equal": 2.5,
    # The same clear full name at the same organisation (same key: name and region) is one person
    # to a careful reader, as in the usual CRM contact rule 'name + account'. With name and company
    # it merges (0.993); a differing mobile or e-mail (a namesake colleague) brings it to review.
    "name_at_company": 5.5,
    # ... unless the name is one of the most frequent (张伟, 李娜): then a person reviews (0.92-0.95),
    # a term-frequency adjustment as Splink makes.
    "common_name_at_company": 3.0,
    # A trade name that opens the other's ('泰恒' ~ '泰恒咨询'): the short form reps type.
    "company_short_form": 0.5,
    "company_core_equal": 1.5,
    "company_close": 1.0,
    "company_pinyin_equal": 1.0,
    # An English or pinyin rendering of a Han name ('Nanjing Yuanlian Trading' ~ '南京元联贸易'), for
    # accounts: with both regions named it merges (0.991), as a key with its region does; else a hint.
    "company_pinyin_equal_account_with_region": 10.7,
    "company_pinyin_equal_account": 2.5,
    "company_branch_differs": -6.0,
    "company_region_differs": -6.0,
    "company_differs": -1.0,
    "company_differs_account": -5.0,
    "company_key_equal_account": 7.0,
    # Enterprise names are unique within their registration region (企业名称登记管理规定), so a
    # key with its region merges on its own: '上海第六人民医院' ~ '上海市第六人民医院' (0.993).
    "company_key_equal_account_with_region": 11.0,
    "company_legal_form_equal": 2.0,
    "region_fits": 0.5,
    "region_differs": -1.0,
    "email_domain_equal": 1.0,
    # Accounts named by records of one customer: a person works for one organisation, so two
    # spellings that do not conflict (pinyin rendering, typo, region left out) are one account;
    # another region, branch or a different name (a job change) still keeps them apart.
    "same_customer": 10.0,
}
# Mailboxes anyone can have: a shared domain says nothing about a shared employer.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "189.cn",
        "aliyun.com",
        "foxmail.com",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "msn.com",
        "tom.com",
        "21cn.com",
        "wo.cn",
    }
)


@dataclass(frozen=True)
class MatchRecord:
    """One record with every field already normalised; build it with :func:`prepare`."""

    unionid: str = ""
    wecom_external_userid: str = ""
    mobile: str = ""
    landline: str = ""
    email: str = ""
    name: PersonName = field(default_factory=lambda: PersonName("", "empty"))
    company: CompanyName = field(default_factory=lambda: CompanyName(""))
    credit_code: str = ""
    region_code: str = ""
    junk: tuple[str, ...] = ()

    @property
    def email_domain(self) -> str:
        """The e-mail's domain, or ""."""
        return email_domain(self.email)


@dataclass(frozen=True)
class Evidence:
    """One comparison that moved the score: its rule, weight and the values compared."""

    rule: str
    weight: float
    detail: str = ""


@dataclass(frozen=True)
class Match:
    """The score of a pair, the decision it implies and every piece of evidence behind it."""

    score: float
    decision: Decision
    evidence: tuple[Evidence, ...]


FlatRecord = tuple[str, str, str, str, str, str, NameKind, str, str, str, str, str, str, str, str, tuple[str, ...]]
"""A :class:`MatchRecord` as one flat tuple (:func:`flatten`, :func:`unflatten`): the batch engine's working form.

Cheap to hash, compare and pickle (a nested frozen dataclass costs ~10x more), and equal exactly
when the records are equal. Read it with the index constants below; ``COMPANY_KEY`` is derived
(``CompanyName.key``), kept so blocking and scoring need not rebuild it.
"""
UNIONID: Final = 0
WECOM: Final = 1
MOBILE: Final = 2
LANDLINE: Final = 3
EMAIL: Final = 4
NAME: Final = 5
NAME_KIND: Final = 6
SURNAME: Final = 7
CORE: Final = 8
COMPANY_REGION: Final = 9
BRANCH: Final = 10
LEGAL_FORM: Final = 11
COMPANY_KEY: Final = 12
CREDIT_CODE: Final = 13
REGION: Final = 14
JUNK: Final = 15


def flatten(record: MatchRecord) -> FlatRecord:
    """``record`` as a :data:`FlatRecord`."""
    name, company = record.name, record.company
    return (
        record.unionid,
        record.wecom_external_userid,
        record.mobile,
        record.landline,
        record.email,
        name.text,
        name.kind,
        name.surname,
        company.core,
        company.region_code,
        company.branch,
        company.legal_form,
        company.key,
        record.credit_code,
        record.region_code,
        record.junk,
    )


def unflatten(flat: FlatRecord) -> MatchRecord:
    """The :class:`MatchRecord` a :data:`FlatRecord` stands for."""
    return MatchRecord(
        unionid=flat[UNIONID],
        wecom_external_userid=flat[WECOM],
        mobile=flat[MOBILE],
        landline=flat[LANDLINE],
        email=flat[EMAIL],
        name=PersonName(flat[NAME], flat[NAME_KIND], flat[SURNAME]),
        company=CompanyName(flat[CORE], flat[COMPANY_REGION], flat[BRANCH], flat[LEGAL_FORM]),
        credit_code=flat[CREDIT_CODE],
        region_code=flat[REGION],
        junk=flat[JUNK],
    )


def prepare(
    *,
    name: str = "",
    phone: str = "",
    email: str = "",
    company: str = "",
    credit_code: str = "",
    unionid: str = "",
    wecom_external_userid: str = "",
    region: str = "",
) -> MatchRecord:
    """Normalise raw fields into a :class:`MatchRecord` (placeholder phones are dropped as keys)."""
    phone_class = classify_phone(phone)
    kind = phone_class.kind
    return MatchRecord(
        unionid=nfkc(unionid),
        wecom_external_userid=nfkc(wecom_external_userid),
        mobile=phone_class.e164 if kind == "mobile" else "",
        landline=phone_class.e164 if kind in ("landline", "switchboard") else "",
        email=normalise_email(email),
        name=normalise_name(name),
        company=normalise_company(company),
        credit_code=normalise_credit_code(credit_code) if credit_code else "",
        region_code=normalise_region(region),
        junk=junk_reasons(name=name, company=company, phone=phone, email=email),
    )


def prepare_flat(
    *,
    name: str = "",
    phone: str = "",
    email: str = "",
    company: str = "",
    credit_code: str = "",
    unionid: str = "",
    wecom_external_userid: str = "",
    region: str = "",
) -> FlatRecord:
    """``flatten(prepare(...))`` without building the dataclasses (the batch engine's hot path)."""
    e164, kind, reason = phone_parts(phone)
    person = normalise_name(name)
    core, company_region, branch, legal_form, company_key = _company_fields(company)
    return (
        nfkc(unionid) if unionid else "",
        nfkc(wecom_external_userid) if wecom_external_userid else "",
        e164 if kind == "mobile" else "",
        e164 if kind in ("landline", "switchboard") else "",
        normalise_email(email) if email else "",
        person.text,
        person.kind,
        person.surname,
        core,
        company_region,
        branch,
        legal_form,
        company_key,
        normalise_credit_code(credit_code) if credit_code else "",
        normalise_region(region) if region else "",
        junk_reasons_of(name, company, reason if kind == "placeholder" else "", email),
    )


@functools.lru_cache(maxsize=1 << 16)
def _company_fields(raw: str) -> tuple[str, str, str, str, str]:
    """A company name's flat fields: core, region code, branch, legal form and key."""
    name = normalise_company(raw)
    return name.core, name.region_code, name.branch, name.legal_form, name.key


# The comparisons below read flat records and give (rule, detail) pairs; the detail (the values
# compared, for the evidence list) is only built when ``explain`` is set, so the batch engine can
# score a pair without formatting text it will not show. One set of rules for every caller.
Found = list[tuple[str, str]]


def _pair(a: str, b: str, joiner: str = " ~ ") -> str:
    return joiner.join(sorted((a, b)))


def _key(out: Found, a: str, b: str, equal: str, differs: str | None, explain: bool) -> None:
    if a and b:
        if a == b:
            out.append((equal, a if explain else ""))
        elif differs:
            out.append((differs, _pair(a, b, " ≠ ") if explain else ""))


def _names(out: Found, a: FlatRecord, b: FlatRecord, explain: bool) -> None:
    a_kind, b_kind = a[NAME_KIND], b[NAME_KIND]
    if a_kind == "empty" or b_kind == "empty":
        return
    a_text, b_text = a[NAME], b[NAME]
    if a_kind == "full" and b_kind == "full":
        if a_text == b_text:
            out.append(("name_equal", a_text if explain else ""))
            return
        a_ascii, b_ascii = a_text.isascii(), b_text.isascii()
        if a_ascii != b_ascii and name_pinyin(a_text) == name_pinyin(b_text):
            rule = "name_pinyin_equal"
        elif _one_typo_apart(a_text, a[SURNAME], b_text, b[SURNAME]):
            rule = "name_close"
        elif a_ascii == b_ascii:
            rule = "name_differs"
        else:
            return
        out.append((rule, _pair(a_text, b_text) if explain else ""))
    elif "placeholder" in (a_kind, b_kind) and "nickname" not in (a_kind, b_kind) and a[SURNAME] and b[SURNAME]:
        rule = "name_surname_fits" if a[SURNAME] == b[SURNAME] else "name_surname_differs"
        out.append((rule, _pair(a_text, b_text) if explain else ""))


def _one_typo_apart(a: str, a_surname: str, b: str, b_surname: str) -> bool:
    """One character apart: any two names of 3+ characters, or two-character Han names of one surname."""
    if Levenshtein.distance(a, b) != 1:
        return False
    if len(a) >= 3 and len(b) >= 3:
        return True
    return len(a) == len(b) == 2 and bool(a_surname) and a_surname == b_surname


@functools.lru_cache(maxsize=1 << 14)
def _is_latin(core: str) -> bool:
    """:attr:`CompanyName.is_latin` of a core."""
    return not any(is_han(ch) for ch in core)


def _companies(out: Found, a: FlatRecord, b: FlatRecord, kind: Kind, explain: bool) -> None:
    a_core, b_core = a[CORE], b[CORE]
    if not a_core or not b_core:
        return
    a_key, b_key = a[COMPANY_KEY], b[COMPANY_KEY]
    pair = _pair(a_key, b_key) if explain else ""
    a_region, b_region = a[COMPANY_REGION], b[COMPANY_REGION]
    if a_region and b_region and not region_compatible(a_region, b_region):
        out.append(("company_region_differs", pair))
        return
    if a[BRANCH] != b[BRANCH]:
        out.append(("company_branch_differs", pair))
        return
    if a_key == b_key and kind == "account":
        rule = "company_key_equal_account_with_region" if a_region else "company_key_equal_account"
        out.append((rule, a_key if explain else ""))
        legal_form = a[LEGAL_FORM]
        if legal_form and legal_form == b[LEGAL_FORM]:
            out.append(("company_legal_form_equal", legal_form if explain else ""))
    elif a_key == b_key:
        out.append(("company_key_equal", a_key if explain else ""))
    elif rule := _other_spelling(a_core, b_core, kind, regions_named=bool(a_region and b_region)):
        out.append((rule, pair))


def _other_spelling(a_core: str, b_core: str, kind: Kind, *, regions_named: bool) -> str:
    """The rule for two different cores of non-conflicting regions and branches; "" when it carries no weight."""
    if a_core == b_core:
        return "company_core_equal"
    if _is_latin(a_core) != _is_latin(b_core):
        if company_pinyin(a_core) != company_pinyin(b_core):
            return ""
        return _pinyin_rule(kind, regions_named=regions_named)
    if min(len(a_core), len(b_core)) >= 4 and (
        Levenshtein.distance(a_core, b_core) <= 1 or ratio(a_core, b_core) >= 85.0
    ):
        return "company_close"
    if kind == "customer" and _short_form(a_core, b_core):
        return "company_short_form"
    return "company_differs_account" if kind == "account" else "company_differs"


def _pinyin_rule(kind: Kind, *, regions_named: bool) -> str:
    """The rule for a Latin and a Han company name that sound (or translate) alike."""
    if kind != "account":
        return "company_pinyin_equal"
    return "company_pinyin_equal_account_with_region" if regions_named else "company_pinyin_equal_account"


def _short_form(a_core: str, b_core: str) -> bool:
    """One Han core of two or more characters opens the other."""
    short, long = sorted((a_core, b_core), key=len)
    return len(short) >= 2 and long.startswith(short) and all(is_han(ch) for ch in short)


def _person_keys(out: Found, a: FlatRecord, b: FlatRecord, explain: bool) -> None:
    # A key is only compared when both records have it (most pairs lack most keys: skip the call).
    if a[UNIONID] and b[UNIONID]:
        _key(out, a[UNIONID], b[UNIONID], "unionid_equal", "unionid_differs", explain)
    if a[WECOM] and b[WECOM]:
        _key(out, a[WECOM], b[WECOM], "wecom_equal", "wecom_differs", explain)
    if a[MOBILE] and b[MOBILE]:
        _key(out, a[MOBILE], b[MOBILE], "mobile_equal", "mobile_differs", explain)
    if a[EMAIL] and b[EMAIL]:
        _key(out, a[EMAIL], b[EMAIL], "email_equal", "email_differs", explain)
    if a[LANDLINE] and b[LANDLINE]:
        _key(out, a[LANDLINE], b[LANDLINE], "landline_equal", None, explain)


def _found(a: FlatRecord, b: FlatRecord, kind: Kind, explain: bool) -> Found:
    """Every comparison between ``a`` and ``b`` that carries weight, strongest keys first: (rule, detail)."""
    out: Found = []
    if kind == "customer":
        _person_keys(out, a, b, explain)
        _names(out, a, b, explain)
    else:
        if a[CREDIT_CODE] and b[CREDIT_CODE]:
            _key(out, a[CREDIT_CODE], b[CREDIT_CODE], "credit_code_equal", "credit_code_differs", explain)
        if a[LANDLINE] and b[LANDLINE]:
            _key(out, a[LANDLINE], b[LANDLINE], "landline_equal_account", None, explain)
    if a[CORE] and b[CORE]:
        _companies(out, a, b, kind, explain)
        if kind == "customer" and out and _name_at_company(out):
            rule = "common_name_at_company" if a[NAME] in COMMON_FULL_NAMES else "name_at_company"
            out.append((rule, a[COMPANY_KEY] if explain else ""))
    a_region, b_region = a[REGION], b[REGION]
    if a_region and b_region:
        rule = "region_fits" if region_compatible(a_region, b_region) else "region_differs"
        out.append((rule, _pair(a_region, b_region) if explain else ""))
    a_email, b_email = a[EMAIL], b[EMAIL]
    if a_email and b_email and a_email != b_email:
        domain = email_domain(a_email)
        if domain and domain == email_domain(b_email) and domain not in PUBLIC_MAIL_DOMAINS:
            out.append(("email_domain_equal", domain))
    return out


def _name_at_company(found: Found) -> bool:
    rules = {rule for rule, _detail in found}
    return "name_equal" in rules and "company_key_equal" in rules


def evidence(a: MatchRecord, b: MatchRecord, kind: Kind = "customer") -> tuple[Evidence, ...]:
    """Every comparison between ``a`` and ``b`` that carries weight, strongest keys first."""
    return tuple(Evidence(rule, WEIGHTS[rule], detail) for rule, detail in _found(flatten(a), flatten(b), kind, True))


def decide(score: float) -> Decision:
    """The action a score calls for."""
    if score >= AUTO_MERGE:
        return "auto_merge"
    return "review" if score >= REVIEW else "distinct"


def _confidence(weights: list[float], a_junk: tuple[str, ...], b_junk: tuple[str, ...]) -> float:
    """The logistic of PRIOR plus ``weights`` (clamped to ±50), with the junk caps."""
    logit = PRIOR + sum(weights)
    if logit > 50.0:
        logit = 50.0
    elif logit < -50.0:
        logit = -50.0
    value = 1.0 / (1.0 + math.exp(-logit))
    if a_junk or b_junk:
        if not (a_junk and b_junk):
            return min(value, JUNK_CAP)
        return min(value, _BELOW_AUTO_MERGE)
    return value


_BELOW_AUTO_MERGE = math.nextafter(AUTO_MERGE, 0.0)


def score(a: MatchRecord, b: MatchRecord, kind: Kind = "customer", *, same_customer: bool = False) -> Match:
    """The match confidence of ``a`` and ``b`` in [0, 1], its decision and evidence.

    ``same_customer`` (accounts only): both records belong to one resolved customer.
    """
    found = list(evidence(a, b, kind))
    if same_customer and kind == "account":
        found.append(Evidence("same_customer", WEIGHTS["same_customer"], "both records are one customer's"))
    value = _confidence([item.weight for item in found], a.junk, b.junk)
    if bool(a.junk) != bool(b.junk):
        found.append(Evidence("junk_vs_real", 0.0, "; ".join(a.junk or b.junk)))
    elif a.junk and b.junk:
        found.append(Evidence("both_junk", 0.0, "junk pairs are reviewed, never merged automatically"))
    return Match(score=value, decision=decide(value), evidence=tuple(found))


def score_flat(a: FlatRecord, b: FlatRecord, kind: Kind = "customer", *, same_customer: bool = False) -> float:
    """``score(unflatten(a), unflatten(b), kind, same_customer=...).score``, without formatting evidence."""
    weights = [WEIGHTS[rule] for rule, _ in _found(a, b, kind, False)]
    if same_customer and kind == "account":
        weights.append(WEIGHTS["same_customer"])
    return _confidence(weights, a[JUNK], b[JUNK])
