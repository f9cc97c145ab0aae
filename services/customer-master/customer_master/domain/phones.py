"""Phone classification: mobile, landline, switchboard, placeholder — who a number can identify.

:func:`customer_master.domain.normalise.normalise_phone` gives the E.164 form; this module
adds what identity needs on top: a landline or switchboard (总机, 400/800 numbers, a number
with an extension '转 8001') is shared by colleagues and never identifies a person alone,
and a placeholder ('13800000000', '12345678901', '13888888888', '1') identifies nobody.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType

from customer_master.domain.normalise import digits_of, nfkc, normalise_phone, plain_mobile, strip_phone_labels

PhoneKind = Literal["mobile", "landline", "switchboard", "placeholder", "invalid", "empty"]

# Numbers people type when a form insists on one (seed 002: empty and fake phones).
PLACEHOLDER_NUMBERS = frozenset(
    {
        "13800000000",
        "13800138000",
        "12345678901",
        "13888888888",
        "13900000000",
        "18888888888",
        "13000000000",
        "15000000000",
        "18000000000",
        "10000000000",
    }
)
# A 'phone' of at most this many digits ('1', '123') was typed to get past a required field.
_TOO_FEW_DIGITS = 5
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SEQUENCES = ("0123456789", "1234567890", "9876543210")
_ASCENDING, _ASCENDING_FROM_1, _DESCENDING = (sequence * 2 for sequence in _SEQUENCES)


@dataclass(frozen=True)
class PhoneClass:
    """A classified phone: its E.164 form (if it parses), kind, extension and why it is junk."""

    e164: str
    kind: PhoneKind
    extension: str = ""
    reason: str = ""

    @property
    def identifies_person(self) -> bool:
        """Only a real mobile identifies a person on its own."""
        return self.kind == "mobile"


def placeholder_reason(digits: str) -> str:
    """Why a national number (digits only, no country code) is a placeholder; "" if it is not."""
    if digits in PLACEHOLDER_NUMBERS:
        return f"placeholder phone {digits}"
    size = len(digits)
    if size >= 7 and digits == digits[0] * size:
        return "phone of one repeated digit"
    if size == 11 and digits[0] == "1" and digits[3:] == digits[3] * 8:
        return "mobile whose subscriber number is one repeated digit"
    if size >= 8 and (digits in _ASCENDING or digits in _ASCENDING_FROM_1 or digits in _DESCENDING):
        return "phone of consecutive digits"
    return ""


def short_reason(digits: str) -> str:
    """Why digits too few for any number ('1', '123') are a placeholder; "" if there are none or enough."""
    return f"phone of too few digits {digits}" if 0 < len(digits) <= _TOO_FEW_DIGITS else ""


def _national_digits(text: str) -> str:
    digits = digits_of(text)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10):
            return digits[len(prefix) :]
    return digits


def _plain(text: str) -> tuple[str, PhoneKind, str] | None:
    """(E.164, kind, placeholder reason) of an NFKC'd, stripped, plainly written mainland mobile; None otherwise.

    No extension can be written in ASCII without x or #, so such a number needs no parse; its national
    digits are what :func:`classify_phone`'s general steps would test for a placeholder.
    """
    if text.isascii() and "x" not in text and "X" not in text and "#" not in text:
        national = plain_mobile(text)
        if national:
            reason = placeholder_reason(national)
            return "+86" + national, "placeholder" if reason else "mobile", reason
    return None


def phone_parts(raw: str) -> tuple[str, PhoneKind, str]:
    """``(c.e164, c.kind, c.reason)`` of ``c = classify_phone(raw)``; a plain mobile without building or caching one
    (the batch engine's hot path: most phones there are plain mobiles, seen once or twice)."""
    plain = _plain(nfkc(raw))
    if plain is not None:
        return plain
    classified = classify_phone(raw)
    return classified.e164, classified.kind, classified.reason


@functools.lru_cache(maxsize=1 << 16)
def classify_phone(raw: str) -> PhoneClass:
    """'138-1234-5678' → mobile; '021-6437 0045转8001' → switchboard; '13800000000' → placeholder."""
    text = nfkc(raw)
    if not text:
        return PhoneClass("", "empty")
    if plain := _plain(text):
        return PhoneClass(plain[0], plain[1], "", plain[2])
    return _classify(text)


def _classify(text: str) -> PhoneClass:
    """:func:`classify_phone` of a non-empty NFKC'd, stripped text, the general way (a full parse)."""
    text = strip_phone_labels(text) or text  # '电话：021-6437 0045转8001（同微信）': the number and extension
    extension = ""
    if match := _EXTENSION.search(text):
        extension, text = match.group(1), text[: match.start()]
    national = _national_digits(text)
    reason = placeholder_reason(national) or short_reason(national)
    phone = normalise_phone(text)
    if reason:
        return PhoneClass(phone.e164 if phone else "", "placeholder", extension, reason)
    if phone is None:
        return PhoneClass("", "invalid", extension, "not a phone number")
    if phone.is_mobile and not extension:
        return PhoneClass(phone.e164, "mobile")
    kind = phonenumbers.number_type(phonenumbers.parse(phone.e164))
    shared = extension or kind in (PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.UAN)
    return PhoneClass(phone.e164, "switchboard" if shared else "landline", extension)
