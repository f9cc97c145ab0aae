"""Personal information helpers: phone-derived keys and log redaction."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

_PHONE_LIKE = re.compile(r"(?<!\d)(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")


def phone_key(phone_e164: str, *, secret: str) -> str:
    """A keyed HMAC-SHA256 of a normalised phone: usable as a Kafka key, not reversible."""
    digest = hmac.new(secret.encode(), phone_e164.encode(), hashlib.sha256).hexdigest()
    return f"ph_{digest[:32]}"


def redact(text: str) -> str:
    """Mask anything that looks like a Chinese mobile number."""
    return _PHONE_LIKE.sub("<phone>", text)


class RedactPhones(logging.Filter):
    """A logging filter that masks phone numbers in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the formatted message with phones masked."""
        record.msg = redact(record.getMessage())
        record.args = None
        return True
