"""Normalise the fields identity depends on: phones, e-mails, regions.

The service's hot path calls these. The other normalisers live beside this module, one
concern each: :mod:`.regions`, :mod:`.phones`, :mod:`.names`, :mod:`.companies`,
:mod:`.credit_codes`, :mod:`.industries`, :mod:`.junk`; scoring in :mod:`.matching`.
"""

from __future__ import annotations

import functools
import re
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


_PLAIN_NUMBER = re.compile(r"\+?[\d\s()\-]+")
# Labels and remarks typed around a number ('手机：', 'tel:', '（微信同号）', '同微信'), after NFKC.
_PHONE_LABEL = (
    r"(?:微信同号|同微信|微信同步|同号|微信号?|wechat|weixin|wx|vx|手机号码|手机号|手机|移动电话|联系电话|电话号码"
    r"|电话|联系方式|号码|本人|私人|常用|tel|phone|mobile|mob|cell)"
)
_LABEL_PUNCT = r"[\s:：,，;；/、.。|]"
_PHONE_PREFIX = re.compile(rf"^(?:{_PHONE_LABEL}|{_LABEL_PUNCT})+", re.IGNORECASE)
_PHONE_SUFFIX = re.compile(
    rf"(?:\(\s*(?:{_PHONE_LABEL}|{_LABEL_PUNCT})*\s*\)|{_PHONE_LABEL}|{_LABEL_PUNCT})+$", re.IGNORECASE
)
_NOT_ASCII_DIGITS = re.compile(r"[^0-9]+")


def digits_of(text: str) -> str:
    """The characters of ``text`` that are digits (``str.isdigit``), in order."""
    if text.isascii():  # the usual case; for ASCII, isdigit() is exactly 0-9
        return _NOT_ASCII_DIGITS.sub("", text)
    return "".join(ch for ch in text if ch.isdigit())


@functools.lru_cache(maxsize=1 << 14)  # every 1xxxx block fits: a smaller cache thrashes in bulk
def _mobile_block(prefix: str) -> bool:
    """Whether the five-digit block ``prefix`` holds valid mainland mobiles (libphonenumber decides per block)."""
    number = phonenumbers.parse(prefix + "123456", "CN")
    kind = phonenumbers.number_type(number)
    return phonenumbers.is_valid_number(number) and kind in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


_MOBILE_BLOCKS: dict[str, bool] = {}
""":func:`_mobile_block` by block, read without the call (at most the 7,000 blocks 13xxx-19xxx)."""


def _plain_mobile_digits(text: str) -> str:
    """The national digits of a plainly written mainland mobile ('+86 138-1234-5678'); "" otherwise."""
    plus = text.startswith("+")
    # What _PLAIN_NUMBER allows after the '+', less the usual separators: ASCII digits alone means
    # it matches and these are its digits; anything else (other white space, digits of another
    # script, no match) takes the regular expression.
    digits = (text[1:] if plus else text).replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if not (digits.isascii() and digits.isdigit()):
        if not _PLAIN_NUMBER.fullmatch(text):
            return ""
        digits = digits_of(text)
    if plus:
        if not digits.startswith("86"):
            return ""
        digits = digits[2:]
    if len(digits) != 11 or digits[0] != "1" or digits[1] not in "3456789":
        return ""
    block = digits[:5]
    mobile = _MOBILE_BLOCKS.get(block)
    if mobile is None:
        mobile = _MOBILE_BLOCKS[block] = _mobile_block(block)
    return digits if mobile else ""


def _plain_mobile(text: str) -> Phone | None:
    """A plainly written mainland mobile ('+86 138-1234-5678') without a full parse; None otherwise."""
    digits = _plain_mobile_digits(text)
    return Phone(e164="+86" + digits, is_mobile=True) if digits else None


def plain_mobile(text: str) -> str:
    """The 11 national digits when :func:`normalise_phone` reads ``text`` (already NFKC and stripped) as a
    plainly written mainland mobile, without parsing it: its E.164 form is '+86' and them; "" otherwise."""
    if text.startswith("00"):
        text = "+" + text[2:]
    return _plain_mobile_digits(text)


def strip_phone_labels(text: str) -> str:
    """'手机：137-0887-9284（微信同号）' → '137-0887-9284': known labels, remarks and separators around it dropped."""
    return _PHONE_SUFFIX.sub("", _PHONE_PREFIX.sub("", text))


def _unlabelled(text: str) -> str:
    """``text`` without its labels when what is left is one plainly written number; "" otherwise."""
    bare = strip_phone_labels(text)
    return bare if bare != text and _PLAIN_NUMBER.fullmatch(bare) else ""


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
    if plain := _plain_mobile(text):
        return plain
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return _unparsed(text, parsed=False)
    if not phonenumbers.is_valid_number(number):
        return _unparsed(text, parsed=True)
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, is_mobile=kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE))


def _unparsed(text: str, *, parsed: bool) -> Phone | None:
    """:func:`normalise_phone` of what is no valid number as written: without its labels, or its stray trunk 0."""
    if bare := _unlabelled(text):  # '13708879284（微信同号）': one number once its labels are gone
        return normalise_phone(bare)
    digits = digits_of(text)
    if parsed and digits.startswith("0") and len(digits) == 12 and digits[1] == "1":
        return normalise_phone(digits[1:])
    return None


def normalise_email(raw: str) -> str:
    """Lower-case, trimmed e-mail; empty when it has no @."""
    text = nfkc(raw).lower()
    return text if "@" in text.strip("@") else ""


ROLE_MAILBOXES = frozenset(
    {
        "admin",
        "bd",
        "biz",
        "business",
        "career",
        "careers",
        "contact",
        "contactus",
        "cs",
        "customer",
        "enquiry",
        "hello",
        "help",
        "hr",
        "info",
        "inquiry",
        "job",
        "jobs",
        "kefu",
        "market",
        "marketing",
        "office",
        "pr",
        "purchase",
        "recruit",
        "sales",
        "service",
        "services",
        "support",
        "team",
        "webmaster",
    }
)
"""Local parts of mailboxes a team shares (hr@, sales@, 客服 kefu@): like a switchboard, evidence, never a person."""


def is_role_mailbox(email: str) -> bool:
    """Whether a normalised e-mail is a team's shared mailbox ('hr@jinan.cn', 'sales+cn@yuansi.com')."""
    user = email.partition("@")[0].partition("+")[0]
    return user in ROLE_MAILBOXES


def normalise_region(raw: str) -> str:
    """A province or city name, abbreviation, pinyin or code → its GB/T 2260 code; empty if unknown."""
    return _region_code(raw)


def email_domain(email: str) -> str:
    """The domain of a normalised e-mail, or empty."""
    return email.rsplit("@", 1)[1] if "@" in email else ""
