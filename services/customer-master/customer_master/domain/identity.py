"""Identity keys: the exact, strong identifiers a touchpoint carries."""

from __future__ import annotations

import functools
from typing import NamedTuple

from crm.events.common.v1.identity_pb2 import Identity

from customer_master.domain.normalise import is_role_mailbox, nfkc, normalise_email, normalise_phone

# Strongest first: when two keys point at different customers, the stronger one wins.
KEY_KINDS = ("unionid", "wecom_external_userid", "phone", "openid", "email", "member_id")


class IdentityKey(NamedTuple):
    """One exact key, e.g. ('phone', '+8613812345678'); ordered and hashed as that tuple."""

    kind: str
    value: str


def identity_keys(identity: Identity, *, extra_phone: str = "", extra_email: str = "") -> list[IdentityKey]:
    """The keys a touchpoint carries, strongest first; landlines and team mailboxes never identify a person."""
    return list(
        _keys(
            identity.unionid,
            identity.wecom_external_userid,
            identity.openid,
            identity.member_id,
            (identity.phone, extra_phone),
            (identity.email, extra_email),
        )
    )


@functools.lru_cache(maxsize=1 << 16)
def _keys(
    unionid: str, external_userid: str, openid: str, member_id: str, phones: tuple[str, str], emails: tuple[str, str]
) -> tuple[IdentityKey, ...]:
    """:func:`identity_keys` of these fields; cached: a person's touchpoints carry the same ones again."""
    found: dict[str, str] = {}
    for kind, raw in (
        ("unionid", unionid),
        ("wecom_external_userid", external_userid),
        ("openid", openid),
        ("member_id", member_id),
    ):
        value = nfkc(raw)
        if value:
            found[kind] = value
    for raw in phones:
        phone = normalise_phone(raw)
        if phone and phone.is_mobile:
            found["phone"] = phone.e164
            break
    for raw in emails:
        email = normalise_email(raw)
        if email and not is_role_mailbox(email):  # a team's mailbox never identifies a person alone
            found["email"] = email
            break
    return tuple(IdentityKey(kind, found[kind]) for kind in KEY_KINDS if kind in found)


def choose_customer(matches: dict[IdentityKey, str]) -> tuple[str, str] | None:
    """Pick the customer for the strongest matching key: (customer_id, matched_on) or None."""
    for kind in KEY_KINDS:
        for key, customer_id in sorted(matches.items()):
            if key.kind == kind:
                return customer_id, kind
    return None
