"""Accounts (the organisation behind a B2B customer): the block a company name falls in, and the one
account of its name that a company without its own block joins.

Two customers share an account when their companies have one normalised key (region, core,
branch: see :mod:`customer_master.domain.companies`). A bracketed qualifier naming a region is
part of the key, so '腾讯(深圳)' and '腾讯(北京)' are two accounts. A name without a region is a
block of its own whatever the customer's region (where a person lives is not where the firm is
registered: staff type the bare name from every city); the customer's region only helps pick among
several accounts of the name, and an account founded by a bare name has no region until a name
with one joins it.

A company whose block has no account yet joins an account of the same name (core and branch)
where that can only be one organisation (:func:`one_account_of_name`), as the batch engine's
``join_regions`` does: a name without a region joins the one region it is found in, and a name
with a region joins the one account of that name in a region that can be the same place. A region
in brackets after the trade name ('龙航餐饮(深圳)有限公司') is how a group names its subsidiary in a
city, so such a name never joins a region-less account of its name: that one is the group's own
bare name ('龙航餐饮股份有限公司'), whereas a leading city ('深圳龙航餐饮') is a firm's own place,
which its staff drop ('龙航餐饮').

A name no account has yet joins the one account whose name sounds the same
(:func:`one_account_of_sound`), as the batch engine's ``join_sounds`` does: a homophone typo
('珑丰' ~ '隆丰'), a pinyin or English rendering of a Han name ('Longfeng Software' ~ '隆丰软件').
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from customer_master.domain.companies import company_pinyin, company_sound, normalise_company
from customer_master.domain.credit_codes import normalise_credit_code
from customer_master.domain.regions import region_compatible
from customer_master.domain.text import is_han


@dataclass(frozen=True)
class AccountDraft:
    """What a customer's company says about its account: the block key and the account's fields.

    ``name_key``: the name without any region (core and branch); ``named_region``: the region the
    name itself carries ("" for a bare trade name, whose ``region_code`` is the customer's);
    ``sound`` (worked out when asked): how the core sounds, with the branch (pinyin; English trade
    words translated).
    """

    block: str
    name: str
    region_code: str
    """The name's region, else where the person typing it is (a hint among several accounts of the name)."""
    credit_code: str = ""
    name_key: str = ""
    named_region: str = ""
    core: str = ""
    branch: str = ""
    bracketed: bool = False
    """Whether the name's region stands in brackets after the trade name (see :class:`CompanyName`)."""

    @property
    def trade(self) -> str:
        """The first two characters of a Han core: where a short name ('弘拓') meets its full form ('弘拓电子')."""
        opening = self.core[:2]
        return opening if len(opening) == 2 and all(map(is_han, opening)) else ""

    @property
    def sound(self) -> str:
        """How the core sounds, with the branch ("" when it has no sound); worked out only when asked."""
        sound = _sound(self.core)
        return f"{sound}|{self.branch}" if sound else ""


@functools.lru_cache(maxsize=1 << 14)
def account_draft(*, company: str, region_code: str, credit_code: str = "") -> AccountDraft | None:
    """The account block of a company name in a region; None when the name names no organisation (cached)."""
    name = normalise_company(company)
    if not name.core:
        return None
    region = name.region_code or region_code
    return AccountDraft(
        block=f"{name.key}#{name.region_code}",  # the name's own region only
        name=name.text,
        region_code=region,
        credit_code=normalise_credit_code(credit_code) if credit_code else "",
        name_key=replace(name, region_code="").key,
        named_region=name.region_code,
        core=name.core,
        branch=name.branch,
        bracketed=name.bracketed,
    )


@functools.lru_cache(maxsize=1 << 14)
def _sound(core: str) -> str:
    """The sound of a name's core (cached: pinyin takes ~0.1 ms)."""
    return company_pinyin(core) if core.isascii() else company_sound(core)


def _core(name_key: str) -> str:
    """The core of a region-less name key ('|隆丰软件|' → '隆丰软件')."""
    return name_key.split("|")[1]


def one_account_of_name(draft: AccountDraft, accounts: Sequence[tuple[str, str]]) -> str | None:
    """The account a draft without an account of its own block joins, among ``accounts`` of its name
    (id, region code); None when none fits or several could be meant (a new account, then).

    A name with a region joins the one account of the name in a compatible region (a province and
    its city are compatible), or, when there is no other, the one account of the name that has no
    region yet, unless its region is in brackets (a subsidiary, never its group). A bare name joins
    the one account of its name, or else the one in a region compatible with the customer's.
    """
    if draft.named_region:
        fits = [account for account, region in accounts if region and region_compatible(region, draft.named_region)]
        if len(fits) == 1:
            return fits[0]
        if not fits and len(accounts) == 1 and not accounts[0][1] and not draft.bracketed:
            return accounts[0][0]
        return None
    if len(accounts) == 1:
        return accounts[0][0]
    if draft.region_code:
        fits = [account for account, region in accounts if region and region_compatible(region, draft.region_code)]
        if len(fits) == 1:
            return fits[0]
    return None


def one_account_of_sound(draft: AccountDraft, accounts: Sequence[tuple[str, str, str]]) -> str | None:
    """The account a name that no account has yet joins, among ``accounts`` that sound like it (id, name
    key, region code) in a region that can be the draft's; None when none fits or several could be meant.

    A Latin name (pinyin or English) joins the one Han-named account it sounds like, else the one
    Latin-named account; a Han name joins the one account whose Han name is one homophone apart,
    else the one Latin-named account (its rendering, seen first).
    """
    fits = [(account, _core(key)) for account, key, region in accounts if region_compatible(region, draft.region_code)]
    han = {account for account, core in fits if not core.isascii()}
    latin = {account for account, core in fits if core.isascii()}
    core = _core(draft.name_key)
    if not core.isascii():
        han = {account for account, other in fits if not other.isascii() and _one_homophone_apart(core, other)}
    chosen = han if han else latin
    return next(iter(chosen)) if len(chosen) == 1 else None


def _one_homophone_apart(a: str, b: str) -> bool:
    """Two Han names of one length that differ in exactly one character (their sounds are equal)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def one_account_of_short_form(draft: AccountDraft, accounts: Sequence[tuple[str, str, str]]) -> str | None:
    """The one account (id, name key, region code) whose Han name opens the draft's or is opened by it
    ('弘拓' ~ '弘拓电子'), in a region that can be the draft's; None when none or several could be meant."""
    core = _core(draft.name_key)
    fits = {
        account
        for account, key, region in accounts
        if region_compatible(region, draft.region_code) and _one_opens_the_other(core, _core(key))
    }
    return next(iter(fits)) if len(fits) == 1 else None


def _one_opens_the_other(a: str, b: str) -> bool:
    """A Han name of two or more characters that the other, longer one starts with."""
    short, long = sorted((a, b), key=len)
    return len(short) < len(long) and len(short) >= 2 and long.startswith(short) and all(map(is_han, short))
