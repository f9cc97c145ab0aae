"""Normalise the fields identity depends on: phones, e-mails, regions.

The service's hot path calls these. The other normalisers live beside this module, one
concern each: :mod:`.regions`, :mod:`.phones`, :mod:`.names`, :mod:`.companies`,
:mod:`.credit_codes`, :mod:`.industries`, :mod:`.junk`; scoring in :mod:`.matching`.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from customer_master.domain.regions import normalise_region as _region_code


@dataclass(frozen=True)
class Phone:
    """A parsed phone number; only a mobile identifies a person on its own."""

    e164: str
    is_mobile: bool


def nfkc(text: str) -> str:
    """Unicode NFKC (full-width digits and letters to half-width), stripped."""
    return unicodedata.normalize("NFKC", text).strip()


@functools.lru_cache(maxsize=1 << 16)
def normalise_phone(raw: str) -> Phone | None:
    """'０１３９ 8765 4321', '+86 138-1234-5678', '008613812345678' → E.164; None if not a number.

    Cached: parsing is the costliest step of resolving a touchpoint and customers come back.
    """
    text = nfkc(raw)
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits.startswith("0") and len(digits) == 12 and digits[1] == "1":
            return normalise_phone(digits[1:])
        return None
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, is_mobile=kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE))


def normalise_email(raw: str) -> str:
    """Lower-case, trimmed e-mail; empty when it has no @."""
    text = nfkc(raw).lower()
    return text if "@" in text.strip("@") else ""


def normalise_region(raw: str) -> str:
    """A province or city name, abbreviation, pinyin or code → its GB/T 2260 code; empty if unknown."""
    return _region_code(raw)


def email_domain(email: str) -> str:
    """The domain of a normalised e-mail, or empty."""
    return email.rsplit("@", 1)[1] if "@" in email else ""
