"""Accounts (the organisation behind a B2B customer): the exact block a company name falls in.

Two customers share an account when their companies have one normalised key (region, core,
branch: see :mod:`customer_master.domain.companies`) in one region. A bracketed qualifier
naming a region is part of the key, so '腾讯(深圳)' and '腾讯(北京)' are two accounts; a name
without a region takes the customer's region.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from customer_master.domain.companies import normalise_company
from customer_master.domain.credit_codes import normalise_credit_code


@dataclass(frozen=True)
class AccountDraft:
    """What a customer's company says about its account: the block key and the account's fields."""

    block: str
    name: str
    region_code: str
    credit_code: str = ""


@functools.lru_cache(maxsize=1 << 14)
def account_draft(*, company: str, region_code: str, credit_code: str = "") -> AccountDraft | None:
    """The account block of a company name in a region; None when the name names no organisation (cached)."""
    name = normalise_company(company)
    if not name.core:
        return None
    region = name.region_code or region_code
    return AccountDraft(
        block=f"{name.key}#{region}",
        name=name.text,
        region_code=region,
        credit_code=normalise_credit_code(credit_code) if credit_code else "",
    )
