"""Blocking keys: the exact, indexed keys under which possible duplicates of a customer are looked up.

Only customers sharing a key are scored against each other, so finding candidates is an
index lookup and never a scan. A phone is blocked on as a digest, never in plaintext.
"""

from __future__ import annotations

import functools
import hashlib

from customer_master.domain.companies import normalise_company
from customer_master.domain.matching import PUBLIC_MAIL_DOMAINS
from customer_master.domain.names import normalise_name
from customer_master.domain.normalise import email_domain


def block_keys(*, name: str, company: str, email: str, phone_e164: str) -> frozenset[tuple[str, str]]:
    """(kind, value) keys: e-mail, phone digest, full name + company key, full name + a company mail domain."""
    return _block_keys(name, company, email, phone_e164)


@functools.lru_cache(maxsize=1 << 14)
def _block_keys(name: str, company: str, email: str, phone_e164: str) -> frozenset[tuple[str, str]]:
    """:func:`block_keys`, cached: a customer's keys are computed again each time its record changes."""
    keys: set[tuple[str, str]] = set()
    if email:
        keys.add(("email", email))
    if phone_e164:
        keys.add(("phone_digest", hashlib.sha256(phone_e164.encode()).hexdigest()[:32]))
    person = normalise_name(name)
    if not person.identifies:
        return frozenset(keys)
    company_key = normalise_company(company).key
    if company_key:
        keys.add(("name_company", f"{person.text}|{company_key}"))
    domain = email_domain(email)
    if domain and domain not in PUBLIC_MAIL_DOMAINS:
        keys.add(("name_domain", f"{person.text}|{domain}"))
    return frozenset(keys)
