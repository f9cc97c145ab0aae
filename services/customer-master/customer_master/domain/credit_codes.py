"""Unified social credit codes (统一社会信用代码, GB 32100-2015), validated by their check character."""

from __future__ import annotations

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from customer_master.domain.regions import CODES as REGION_CODES


def normalise_credit_code(raw: str) -> str:
    """'91310000 MA1FL8XQ3X'-like text → the 18-character code if its check character holds, else ""."""
    try:
        return str(uscc.validate(uscc.compact(raw.upper())))
    except ValidationError:
        return ""


def credit_code_region(code: str) -> str:
    """The GB/T 2260 division code registered in a valid credit code (characters 3–8)."""
    return code[2:8] if len(code) == 18 else ""


def registered_region(code: str) -> str:
    """The city (else province) a valid credit code is registered in, as a region code; "" if unknown
    (characters 3-8 are the registering authority's GB/T 2260 division: '420102' → '420100')."""
    division = credit_code_region(code)
    if not division.isdigit():
        return ""
    for candidate in (division[:4] + "00", division[:2] + "0000"):
        if candidate in REGION_CODES:
            return candidate
    return ""
