"""Normalise and impute the routing fields a lead lacks, each guess with a confidence.

* ``region``: a code or any spelling (``shanghai`` → ``310000``) is *normalised*; when
  the lead has none, it is *imputed* from the address (names in the text), the phone
  number (phonenumbers' geocoder: a Chinese mobile prefix → the city it was issued in;
  a landline → its area code's city) or the client IP through an :class:`IpLocator`.
* ``industry``: a letter or section name is normalised; else imputed from the e-mail
  domain (known domains, ``.edu.cn`` …) or keywords of the company name.

Every candidate is recorded; the best one is used only when its confidence reaches the
rule set's threshold (0.75, the seeds' figure).

Client IP: no IP→region database ships with this project or its dependencies, and
looking one up online would put I/O into routing. :class:`StaticIpLocator` takes a table
of networks (office ranges, or an export of ip2region / GeoLite2 prepared offline); with
none configured an IP is recorded as "not located" and never guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from lead_router.domain.industries import industry_from_company, industry_from_domain, normalise_industry
from lead_router.domain.lead import LeadInput
from lead_router.domain.regions import normalise_region, region_in_text

MOBILE_CONFIDENCE = 0.8  # a mobile number's issuing city; people move, provinces mostly hold
LANDLINE_CONFIDENCE = 0.95
ADDRESS_CITY_CONFIDENCE = 0.9
ADDRESS_PROVINCE_CONFIDENCE = 0.85


@dataclass(frozen=True)
class Imputation:
    """One candidate value for a missing field; ``used`` when it was the best and ≥ the threshold."""

    field: str
    value: str
    confidence: float
    source: str
    evidence: str
    used: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON for the trace."""
        return {
            "field": self.field,
            "value": self.value,
            "confidence": self.confidence,
            "source": self.source,
            "evidence": self.evidence,
            "used": self.used,
        }


@dataclass(frozen=True)
class Resolution:
    """The lead with ``region`` as a code and ``industry`` as a letter, and how they were found."""

    lead: LeadInput
    normalised: tuple[tuple[str, str, str], ...]
    imputations: tuple[Imputation, ...]
    notes: tuple[str, ...]

    @property
    def used(self) -> dict[str, Imputation]:
        """The imputations the lead was routed on, by field."""
        return {i.field: i for i in self.imputations if i.used}


class IpLocator(Protocol):
    """Maps a client IP to ``(GB/T 2260 code, confidence)``, or ``None`` when it cannot say."""

    def locate(self, ip: str) -> tuple[str, float] | None:
        """Locate one address."""
        ...


class StaticIpLocator:
    """An offline table of networks → region code (most specific network wins)."""

    def __init__(self, networks: Mapping[str, str], *, confidence: float = 0.8) -> None:
        """``networks`` maps CIDR text (``"58.32.0.0/13"``) to a region code or name."""
        self._networks = sorted(
            ((ipaddress.ip_network(cidr), normalise_region(region)) for cidr, region in networks.items()),
            key=lambda item: -item[0].prefixlen,
        )
        self._confidence = confidence

    def locate(self, ip: str) -> tuple[str, float] | None:
        """The region of the most specific network holding ``ip``."""
        address = ipaddress.ip_address(ip)
        for network, code in self._networks:
            if code and address.version == network.version and address in network:
                return code, self._confidence
        return None


def warm_up() -> None:
    """Load phonenumbers' geocoder data now (≈0.5–1.5 s, ≈100 MB) rather than inside the first decision."""
    _phone_candidate("+8613800000000")


def _phone_candidate(phone: str) -> tuple[Imputation | None, str]:
    """A region from a phone number via phonenumbers' geocoder, or a note why not."""
    import phonenumbers
    from phonenumbers import PhoneNumberType, geocoder, number_type

    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None, "phone: not a phone number"
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None, "phone: not a valid Chinese number"
    place = geocoder.description_for_number(number, "zh")
    code, _ = region_in_text(place)
    if not code:
        return None, f"phone: geocoder place {place!r} not in the region table" if place else "phone: no place known"
    kind = number_type(number)
    mobile = kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    confidence = MOBILE_CONFIDENCE if mobile else LANDLINE_CONFIDENCE
    source = "phone_mobile_prefix" if mobile else "phone_area_code"
    return Imputation("region", code, confidence, source, place), ""


def _region_candidates(lead: LeadInput, ip_locator: IpLocator | None) -> tuple[list[Imputation], list[str]]:
    """Every region candidate from address, phone and client IP, with notes on what gave nothing."""
    found: list[Imputation] = []
    notes: list[str] = []
    if lead.address:
        code, name = region_in_text(lead.address)
        if code:
            confidence = ADDRESS_PROVINCE_CONFIDENCE if code.endswith("0000") else ADDRESS_CITY_CONFIDENCE
            found.append(Imputation("region", code, confidence, "address", name))
        else:
            notes.append("address: names no known region")
    if lead.phone:
        candidate, note = _phone_candidate(lead.phone)
        if candidate:
            found.append(candidate)
        else:
            notes.append(note)
    if lead.client_ip:
        located = _locate_ip(lead.client_ip, ip_locator)
        if isinstance(located, str):
            notes.append(located)
        else:
            found.append(Imputation("region", located[0], located[1], "client_ip", lead.client_ip))
    return found, notes


def _locate_ip(ip: str, ip_locator: IpLocator | None) -> tuple[str, float] | str:
    """``(code, confidence)`` or a note why the IP says nothing."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "client_ip: not an IP address"
    if not address.is_global:
        return "client_ip: private or reserved address"
    if ip_locator is None:
        return "client_ip: no offline IP database configured"
    located = ip_locator.locate(ip)
    return located if located else "client_ip: not in the IP table"


def _industry_candidates(lead: LeadInput) -> tuple[list[Imputation], list[str]]:
    """Industry candidates from the e-mail domain and the company name."""
    found: list[Imputation] = []
    notes: list[str] = []
    if lead.email_domain:
        section, confidence, why = industry_from_domain(lead.email_domain)
        if section:
            found.append(Imputation("industry", section, confidence, "email_domain", why))
        else:
            notes.append(f"email_domain: {why or 'unknown domain'}")
    if lead.company:
        section, confidence, keyword = industry_from_company(lead.company)
        if section:
            found.append(Imputation("industry", section, confidence, "company_name", keyword))
        else:
            notes.append("company: no industry keyword")
    return found, notes


def _choose(candidates: list[Imputation], threshold: float) -> list[Imputation]:
    """Mark the most confident candidate used if it reaches ``threshold``."""
    ranked = sorted(candidates, key=lambda c: -c.confidence)
    if ranked and ranked[0].confidence >= threshold:
        ranked[0] = replace(ranked[0], used=True)
    return ranked


def resolve(lead: LeadInput, *, min_confidence: float = 0.75, ip_locator: IpLocator | None = None) -> Resolution:
    """Normalise ``region`` and ``industry``; impute whichever is still empty."""
    normalised: list[tuple[str, str, str]] = []
    imputations: list[Imputation] = []
    notes: list[str] = []
    region = normalise_region(lead.region) if lead.region else ""
    if lead.region and region != lead.region:
        normalised.append(("region", lead.region, region))
    industry = normalise_industry(lead.industry) if lead.industry else ""
    if lead.industry and industry != lead.industry:
        normalised.append(("industry", lead.industry, industry))
    if not region:
        found, why = _region_candidates(lead, ip_locator)
        imputations += _choose(found, min_confidence)
        notes += why
    if not industry:
        found, why = _industry_candidates(lead)
        imputations += _choose(found, min_confidence)
        notes += why
    for item in imputations:
        if item.used and item.field == "region":
            region = item.value
        elif item.used:
            industry = item.value
    resolved = replace(lead, region=region, industry=industry)
    return Resolution(lead=resolved, normalised=tuple(normalised), imputations=tuple(imputations), notes=tuple(notes))
