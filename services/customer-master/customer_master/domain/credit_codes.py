"""Unified social credit codes (统一社会信用代码, GB 32100-2015), validated by their check character."""

from __future__ import annotations

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError


def normalise_credit_code(raw: str) -> str:
    """'91310000 MA1FL8XQ3X'-like text → the 18-character code if its check character holds, else ""."""
    try:
        return str(uscc.validate(uscc.compact(raw.upper())))
    except ValidationError:
        return ""


def credit_code_region(code: str) -> str:
    """The GB/T 2260 division code registered in a valid credit code (characters 3–8)."""
    return code[2:8] if len(code) == 18 else ""
