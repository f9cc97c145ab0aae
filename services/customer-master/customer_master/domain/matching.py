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

import math
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio

from customer_master.domain.companies import CompanyName, company_pinyin, normalise_company
from customer_master.domain.credit_codes import normalise_credit_code
from customer_master.domain.junk import junk_reasons
from customer_master.domain.names import PersonName, name_pinyin, normalise_name
from customer_master.domain.normalise import email_domain, nfkc, normalise_email
from customer_master.domain.phones import classify_phone
from customer_master.domain.regions import normalise_region, region_compatible

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
    "company_core_equal": 1.5,
    "company_close": 1.0,
    "company_pinyin_equal": 1.0,
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
    normalised_email = normalise_email(email)
    return MatchRecord(
        unionid=nfkc(unionid),
        wecom_external_userid=nfkc(wecom_external_userid),
        mobile=phone_class.e164 if phone_class.kind == "mobile" else "",
        landline=phone_class.e164 if phone_class.kind in ("landline", "switchboard") else "",
        email=normalised_email,
        name=normalise_name(name),
        company=normalise_company(company),
        credit_code=normalise_credit_code(credit_code) if credit_code else "",
        region_code=normalise_region(region),
        junk=junk_reasons(name=name, company=company, phone=phone, email=email),
    )


def _key(out: list[Evidence], a: str, b: str, equal: str, differs: str | None) -> None:
    if a and b:
        if a == b:
            out.append(Evidence(equal, WEIGHTS[equal], a))
        elif differs:
            out.append(Evidence(differs, WEIGHTS[differs], " ≠ ".join(sorted((a, b)))))


def _names(out: list[Evidence], a: PersonName, b: PersonName) -> None:
    if a.kind == "empty" or b.kind == "empty":
        return
    pair = " ~ ".join(sorted((a.text, b.text)))
    if a.identifies and b.identifies:
        if a.text == b.text:
            out.append(Evidence("name_equal", WEIGHTS["name_equal"], a.text))
        elif a.text.isascii() != b.text.isascii() and name_pinyin(a.text) == name_pinyin(b.text):
            out.append(Evidence("name_pinyin_equal", WEIGHTS["name_pinyin_equal"], pair))
        elif _one_typo_apart(a, b):
            out.append(Evidence("name_close", WEIGHTS["name_close"], pair))
        elif a.text.isascii() == b.text.isascii():
            out.append(Evidence("name_differs", WEIGHTS["name_differs"], pair))
    elif "placeholder" in (a.kind, b.kind) and "nickname" not in (a.kind, b.kind) and a.surname and b.surname:
        rule = "name_surname_fits" if a.surname == b.surname else "name_surname_differs"
        out.append(Evidence(rule, WEIGHTS[rule], pair))


def _one_typo_apart(a: PersonName, b: PersonName) -> bool:
    """One character apart: any two names of 3+ characters, or two-character Han names of one surname."""
    if Levenshtein.distance(a.text, b.text) != 1:
        return False
    if len(a.text) >= 3 and len(b.text) >= 3:
        return True
    return len(a.text) == len(b.text) == 2 and bool(a.surname) and a.surname == b.surname


def _companies(out: list[Evidence], a: CompanyName, b: CompanyName, kind: Kind) -> None:
    if not a.core or not b.core:
        return
    pair = " ~ ".join(sorted((a.key, b.key)))
    if a.region_code and b.region_code and not region_compatible(a.region_code, b.region_code):
        out.append(Evidence("company_region_differs", WEIGHTS["company_region_differs"], pair))
        return
    if a.branch != b.branch:
        out.append(Evidence("company_branch_differs", WEIGHTS["company_branch_differs"], pair))
        return
    if a.key == b.key and kind == "account":
        rule = "company_key_equal_account_with_region" if a.region_code else "company_key_equal_account"
        out.append(Evidence(rule, WEIGHTS[rule], a.key))
        if a.legal_form and a.legal_form == b.legal_form:
            out.append(Evidence("company_legal_form_equal", WEIGHTS["company_legal_form_equal"], a.legal_form))
    elif a.key == b.key:
        out.append(Evidence("company_key_equal", WEIGHTS["company_key_equal"], a.key))
    elif a.core == b.core:
        out.append(Evidence("company_core_equal", WEIGHTS["company_core_equal"], pair))
    elif a.is_latin != b.is_latin:
        if company_pinyin(a.core) == company_pinyin(b.core):
            out.append(Evidence("company_pinyin_equal", WEIGHTS["company_pinyin_equal"], pair))
    elif min(len(a.core), len(b.core)) >= 4 and (
        Levenshtein.distance(a.core, b.core) <= 1 or ratio(a.core, b.core) >= 85.0
    ):
        out.append(Evidence("company_close", WEIGHTS["company_close"], pair))
    else:
        rule = "company_differs_account" if kind == "account" else "company_differs"
        out.append(Evidence(rule, WEIGHTS[rule], pair))


def evidence(a: MatchRecord, b: MatchRecord, kind: Kind = "customer") -> tuple[Evidence, ...]:
    """Every comparison between ``a`` and ``b`` that carries weight, strongest keys first."""
    out: list[Evidence] = []
    if kind == "customer":
        _key(out, a.unionid, b.unionid, "unionid_equal", "unionid_differs")
        _key(out, a.wecom_external_userid, b.wecom_external_userid, "wecom_equal", "wecom_differs")
        _key(out, a.mobile, b.mobile, "mobile_equal", "mobile_differs")
        _key(out, a.email, b.email, "email_equal", "email_differs")
        _key(out, a.landline, b.landline, "landline_equal", None)
        _names(out, a.name, b.name)
    else:
        _key(out, a.credit_code, b.credit_code, "credit_code_equal", "credit_code_differs")
        _key(out, a.landline, b.landline, "landline_equal_account", None)
    _companies(out, a.company, b.company, kind)
    if a.region_code and b.region_code:
        fits = region_compatible(a.region_code, b.region_code)
        rule = "region_fits" if fits else "region_differs"
        out.append(Evidence(rule, WEIGHTS[rule], " ~ ".join(sorted((a.region_code, b.region_code)))))
    domain = a.email_domain
    if domain and domain == b.email_domain and domain not in PUBLIC_MAIL_DOMAINS and a.email != b.email:
        out.append(Evidence("email_domain_equal", WEIGHTS["email_domain_equal"], domain))
    return tuple(out)


def decide(score: float) -> Decision:
    """The action a score calls for."""
    if score >= AUTO_MERGE:
        return "auto_merge"
    return "review" if score >= REVIEW else "distinct"


def score(a: MatchRecord, b: MatchRecord, kind: Kind = "customer", *, same_customer: bool = False) -> Match:
    """The match confidence of ``a`` and ``b`` in [0, 1], its decision and evidence.

    ``same_customer`` (accounts only): both records belong to one resolved customer.
    """
    found = list(evidence(a, b, kind))
    if same_customer and kind == "account":
        found.append(Evidence("same_customer", WEIGHTS["same_customer"], "both records are one customer's"))
    logit = PRIOR + sum(item.weight for item in found)
    value = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
    if bool(a.junk) != bool(b.junk):
        value = min(value, JUNK_CAP)
        found.append(Evidence("junk_vs_real", 0.0, "; ".join(a.junk or b.junk)))
    elif a.junk and b.junk:
        value = min(value, math.nextafter(AUTO_MERGE, 0.0))
        found.append(Evidence("both_junk", 0.0, "junk pairs are reviewed, never merged automatically"))
    return Match(score=value, decision=decide(value), evidence=tuple(found))
