"""Identity keys: the exact, strong identifiers a touchpoint carries."""

from __future__ import annotations

from dataclasses import dataclass

from crm.events.common.v1.identity_pb2 import Identity

from customer_master.domain.normalise import nfkc, normalise_email, normalise_phone

# Strongest first: when two keys point at different customers, the stronger one wins.
KEY_KINDS = ("unionid", "wecom_external_userid", "phone", "openid", "email", "member_id")


@dataclass(frozen=True, order=True)
class IdentityKey:
    """One exact key, e.g. ('phone', '+8613812345678')."""

    kind: str
    value: str


def identity_keys(identity: Identity, *, extra_phone: str = "", extra_email: str = "") -> list[IdentityKey]:
    """The keys a touchpoint carries, strongest first; landlines never identify a person."""
    found: dict[str, str] = {}
    for kind in ("unionid", "wecom_external_userid", "openid", "member_id"):
        value = nfkc(getattr(identity, kind))
        if value:
            found[kind] = value
    for raw in (identity.phone, extra_phone):
        phone = normalise_phone(raw)
        if phone and phone.is_mobile:
            found["phone"] = phone.e164
            break
    for raw in (identity.email, extra_email):
        email = normalise_email(raw)
        if email:
            found["email"] = email
            break
    return [IdentityKey(kind, found[kind]) for kind in KEY_KINDS if kind in found]


def choose_customer(matches: dict[IdentityKey, str]) -> tuple[str, str] | None:
    """Pick the customer for the strongest matching key: (customer_id, matched_on) or None."""
    for kind in KEY_KINDS:
        for key, customer_id in sorted(matches.items()):
            if key.kind == kind:
                return customer_id, kind
    return None
