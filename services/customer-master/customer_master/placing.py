"""Which account each customer of a batch belongs to, and which accounts its records tie together.

A source record's company names an account (:class:`Accounts`: by block, else by name, sound or
short form; a company no account has yet founds one only as a golden record's company). Each
record's account is its vote, kept with the record; a customer belongs to the account most of its
records name, as ``crm dedupe`` decides (:class:`Votes`), so one slip ('金安' for '金安软件（西安）')
does not carry a customer off. A customer that names another account beside its own (a record's
company, the account it had before) ties the two, for :mod:`customer_master.account_merging` to
weigh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from crmkit.entropy import random_hex
from crmkit.outbox import Outbox
from crmkit.rawsql import RawSql

from customer_master import account_merging, merging
from customer_master.domain.accounts import (
    AccountDraft,
    account_draft,
    one_account_of_name,
    one_account_of_short_form,
    one_account_of_sound,
)
from customer_master.domain.credit_codes import registered_region
from customer_master.domain.regions import region_compatible
from customer_master.domain.resolution import CustomerRecord, Observation, Outcome
from customer_master.models import AccountRow, Base

_ACCOUNTS = Base.metadata.tables[AccountRow.__tablename__]
_ACCOUNT_COLUMNS = (
    "id",
    "block",
    "name_key",
    "sound",
    "trade",
    "name",
    "credit_code",
    "region_code",
    "merged_into",
    "created_at",
)


def _live_id(table: str = "") -> str:
    """An account's id, or the one it was merged into (merges keep one hop: see account_merging)."""
    return f"CASE WHEN {table}merged_into = '' THEN {table}id ELSE {table}merged_into END"


_LIVE = _live_id()
_ACCOUNTS_BY_BLOCK = f"SELECT block, {_LIVE} FROM accounts WHERE block IN ({{}})"
_ACCOUNTS_BY_NAME = f"SELECT {_LIVE}, name_key, region_code FROM accounts WHERE name_key IN ({{}})"
_ACCOUNTS_BY_SOUND = f"SELECT {_LIVE}, sound, name_key, region_code FROM accounts WHERE sound IN ({{}})"
_ACCOUNTS_BY_TRADE = f"SELECT {_LIVE}, trade, name_key, region_code FROM accounts WHERE trade IN ({{}})"
_ACCOUNTS_BY_CODE = f"SELECT credit_code, {_LIVE} FROM accounts WHERE credit_code != '' AND credit_code IN ({{}})"
_CODES_AND_REGIONS = "SELECT id, credit_code, region_code FROM accounts WHERE id IN ({})"
_VOTES = (
    f"SELECT s.customer_id, {_live_id('a.')}, COUNT(*)"
    " FROM source_records s JOIN accounts a ON a.id = s.account_id WHERE s.customer_id IN ({}) GROUP BY 1, 2"
)


def new_account_id() -> str:
    """An opaque, stable account id."""
    return f"acc_{random_hex(12)}"


def golden_draft(customer: CustomerRecord) -> AccountDraft | None:
    """The account draft of a customer's golden company in its region (None for a consumer or junk)."""
    if customer.junk:
        return None
    return account_draft(company=customer.company, region_code=customer.region_code)


def record_draft(observation: Observation, customer: CustomerRecord) -> AccountDraft | None:
    """The account draft of the company a new (real) source record names: in its own region, else where its
    credit code was registered, else in the record's or the customer's region."""
    company = observation.profile.get("company") if observation.record is not None and not observation.junk else ""
    if not company:
        return None
    code = observation.credit_code
    # A name without its region is placed where its credit code was registered, else where the person is.
    region = registered_region(code) or observation.profile.get("region_code") or customer.region_code
    return account_draft(company=company, region_code=region, credit_code=code)


def merged_tie(survivor: CustomerRecord, absorbed: CustomerRecord) -> account_merging.Tie | None:
    """Two merged customers' accounts, when they differ: the merged customer names both."""
    if not survivor.account_id or not absorbed.account_id or survivor.account_id == absorbed.account_id:
        return None
    spellings = ((survivor.company, survivor.region_code), (absorbed.company, absorbed.region_code))
    return account_merging.Tie(survivor.id, survivor.account_id, absorbed.account_id, spellings)


class Accounts:
    """The accounts a batch's customers fall in: loaded by credit code and block, then (for the blocks without
    one) by name, sound and short form, one query each; new ones created in memory, regions and credit codes
    learnt by existing accounts noted."""

    def __init__(self, sql: RawSql, drafts: Sequence[AccountDraft | None], *, now: datetime) -> None:
        self._sql = sql
        self._now = now
        codes = sorted({draft.credit_code for draft in drafts if draft is not None and draft.credit_code})
        self._of_code: dict[str, str] = dict(sql.rows_in(_ACCOUNTS_BY_CODE, codes))
        self._facts: dict[str, tuple[str, str]] = {}  # account id → (credit code, region), read when needed
        self.coded: dict[str, str] = {}
        """Accounts without a credit code that a record stating one named: account id → that code."""
        blocks = sorted({draft.block for draft in drafts if draft is not None})
        self._ids: dict[str, str] = dict(sql.rows_in(_ACCOUNTS_BY_BLOCK, blocks))
        unplaced = [d for d in drafts if d is not None and d.block not in self._ids]
        self._of_name: dict[str, list[tuple[str, str]]] = {}
        for account_id, name_key, region in sql.rows_in(_ACCOUNTS_BY_NAME, sorted({d.name_key for d in unplaced})):
            named = self._of_name.setdefault(name_key, [])
            if all(account_id != other for other, _ in named):  # two names merged into one account: one entry
                named.append((account_id, region))
        sounds = sorted({d.sound for d in unplaced if d.sound and d.name_key not in self._of_name})
        self._of_sound = _by_first(sql.rows_in(_ACCOUNTS_BY_SOUND, sounds))
        trades = sorted({d.trade for d in unplaced if d.trade and d.name_key not in self._of_name})
        self._of_trade = _by_first(sql.rows_in(_ACCOUNTS_BY_TRADE, trades))
        self.created: list[tuple[object, ...]] = []
        self.placed: dict[str, str] = {}
        """Region-less accounts that a name with a region joined: account id → that region."""

    def write(self, sql: RawSql) -> None:
        """Insert the accounts created, and write the regions and credit codes existing ones learnt."""
        sql.insert(_ACCOUNTS, _ACCOUNT_COLUMNS, self.created)
        sql.update(_ACCOUNTS, ("region_code",), [(region, account) for account, region in sorted(self.placed.items())])
        sql.update(_ACCOUNTS, ("credit_code",), [(code, account) for account, code in sorted(self.coded.items())])

    def ties(
        self, customer: CustomerRecord, *, previous: str, named: AccountDraft | None, vote: str
    ) -> list[account_merging.Tie]:
        """The other accounts a customer names beside its own: the one it had before this touchpoint, and the
        one its new source record's company (``named``) voted for."""
        own = customer.account_id
        found = []
        if own and previous and previous != own:
            found.append(account_merging.Tie(customer.id, own, previous))
        if own and named is not None and vote and vote != own:
            spellings = ((customer.company, customer.region_code), (named.name, named.region_code))
            found.append(account_merging.Tie(customer.id, own, vote, spellings))
        return found

    def named_by(self, draft: AccountDraft | None) -> str:
        """The account a source record's company (``draft``) names: by its credit code when it states one, else
        the existing account its name leads to; "" for none."""
        if draft is None:
            return ""
        if draft.credit_code:
            return self._registered(draft)
        return self._ids.get(draft.block) or self._find(draft) or ""

    def _registered(self, draft: AccountDraft) -> str:
        """The account of a company stated with its credit code: the one holding the code; else the one its name
        leads to, which takes the code when it has none and can be registered where the code was; else a new
        account for the code (another legal entity of that name: a branch, a namesake)."""
        code = draft.credit_code
        if code in self._of_code:
            return self._of_code[code]
        account_id = self._ids.get(draft.block) or self._find(draft)
        if account_id is not None and self._takes(account_id, code):
            self.coded[account_id] = code
            self._facts[account_id] = (code, self._facts[account_id][1])
        else:
            taken = draft.block in self._ids or account_id is not None
            account_id = self._create(draft, block=f"{draft.block}#{code}" if taken else draft.block)
            self._ids.setdefault(draft.block, account_id)
        self._of_code[code] = account_id
        return account_id

    def _takes(self, account_id: str, code: str) -> bool:
        """Whether an account can take a credit code: it has none, and can be where the code was registered."""
        if account_id not in self._facts:
            for found, held, region in self._sql.rows_in(_CODES_AND_REGIONS, [account_id]):
                self._facts[found] = (held, region)
        held, region = self._facts.get(account_id, ("?", ""))
        return not held and region_compatible(region, registered_region(code))

    def _find(self, draft: AccountDraft) -> str | None:
        """The existing account a draft without one of its own block joins: of its name, sound or short form."""
        named = self._of_name.setdefault(draft.name_key, [])
        account_id = one_account_of_name(draft, named)
        if account_id is None and not named:
            alike = self._of_sound.get(draft.sound, []) if draft.sound else []
            shorter = self._of_trade.get(draft.trade, []) if draft.trade else []
            account_id = one_account_of_sound(draft, alike) or one_account_of_short_form(draft, shorter)
        return account_id

    def _place(self, account_id: str, region: str) -> None:
        """A region-less account joined by a name with a region learns it: names of other places no longer fit."""
        for entries in self._of_name.values():
            for i, (other, known) in enumerate(entries):
                if other == account_id and not known:
                    entries[i] = (account_id, region)
                    self.placed[account_id] = region
        for found in (self._of_sound, self._of_trade):
            for alike in found.values():
                for i, (other, key, known) in enumerate(alike):
                    if other == account_id and not known:
                        alike[i] = (account_id, key, region)
                        self.placed[account_id] = region

    def existing(self, draft: AccountDraft) -> str:
        """The existing account a (golden) company joins ("" for none yet); a region-less one learns its region."""
        if draft.block in self._ids:
            return self._ids[draft.block]
        account_id = self._find(draft)
        if account_id is None:
            return ""
        if draft.named_region:
            self._place(account_id, draft.named_region)
        self._ids[draft.block] = account_id
        return account_id

    def founded(self, draft: AccountDraft) -> str:
        """A new account for a (golden) company that no account has."""
        account_id = self._create(draft, block=draft.block)
        self._ids[draft.block] = account_id
        return account_id

    def _create(self, draft: AccountDraft, *, block: str) -> str:
        """A new account for a draft, findable by its name, sound and short form from now on; placed where
        its name or its credit code says, else nowhere yet (a bare name says nothing of the firm's place)."""
        account_id = new_account_id()
        sound, trade = draft.sound, draft.trade
        draft = replace(draft, region_code=draft.named_region or registered_region(draft.credit_code))
        self._of_name.setdefault(draft.name_key, []).append((account_id, draft.region_code))
        if sound:
            self._of_sound.setdefault(sound, []).append((account_id, draft.name_key, draft.region_code))
        if trade:
            self._of_trade.setdefault(trade, []).append((account_id, draft.name_key, draft.region_code))
        self._facts[account_id] = (draft.credit_code, draft.region_code)
        self.created.append(
            (
                account_id,
                block,
                draft.name_key,
                sound,
                trade,
                draft.name,
                draft.credit_code,
                draft.region_code,
                "",
                self._now,
            )
        )
        return account_id


class Votes:
    """The accounts a customer's source records named (one vote each): a customer belongs to the account most
    of its records name, as ``crm dedupe`` decides; a tie goes to its golden company's account, then to the
    one it had.

    A stored customer's votes are read (one query) only when its account may move: when its golden company
    names another account than the one it has, or a record votes for another.
    """

    def __init__(self, sql: RawSql, stored: set[str]) -> None:
        self._sql = sql
        self._stored = stored
        self._counts: dict[str, dict[str, int]] = {}
        self._cast: dict[str, list[str]] = {}

    def add(self, customer_id: str, account_id: str) -> None:
        """Count one more record of a customer naming ``account_id`` ("" names none)."""
        if account_id:
            self._cast.setdefault(customer_id, []).append(account_id)
            if (counts := self._counts.get(customer_id)) is not None:
                counts[account_id] = counts.get(account_id, 0) + 1

    def winner(self, customer_id: str, *, golden: str, previous: str, vote: str) -> str:
        """The account a customer belongs to, given its golden company's, the one it had and its new record's vote."""
        if golden == previous and vote in ("", previous):
            return previous  # a vote for the leader, or none: nothing can move
        counts = self._tally(customer_id, stored=bool(previous))
        if not counts:
            return golden
        most = max(counts.values())
        leaders = [account for account, count in counts.items() if count == most]
        for preferred in (golden, previous):
            if preferred in leaders:
                return preferred
        return min(leaders)

    def _tally(self, customer_id: str, *, stored: bool) -> dict[str, int]:
        """A customer's votes: its stored records' (read once; a customer that had no account has none) and
        this batch's."""
        counts = self._counts.get(customer_id)
        if counts is None:
            counts = {}
            if stored and customer_id in self._stored:
                counts.update((account, count) for _, account, count in self._sql.rows_in(_VOTES, [customer_id]))
            for account_id in self._cast.get(customer_id, ()):
                counts[account_id] = counts.get(account_id, 0) + 1
            self._counts[customer_id] = counts
        return counts


def recount(*, sql: RawSql, outbox: Outbox, customer_ids: Iterable[str], now: datetime) -> None:
    """After customer merges: a merged customer belongs to the account most of its pooled records name (its
    own account keeps a tie), as :class:`Votes` decides for a new record."""
    wanted = sorted(set(customer_ids))
    tallies: dict[str, dict[str, int]] = {}
    for customer_id, account_id, count in sql.rows_in(_VOTES, wanted):
        tallies.setdefault(customer_id, {})[account_id] = count
    moved = []
    for customer in merging.records_of(sql, tallies).values():
        tally = tallies[customer.id]
        best = max(sorted(tally), key=tally.__getitem__)
        if customer.merged_into or customer.junk or tally[best] <= tally.get(customer.account_id, 0):
            continue
        sql.execute(
            "UPDATE customers SET account_id = ?, version = version + 1, updated_at = ? WHERE id = ?",
            best,
            now,
            customer.id,
        )
        moved.append(customer.id)
    account_merging.emit_moved(outbox, list(merging.records_of(sql, moved).values()), "recount")


def _by_first(rows: Iterable[tuple[str, str, str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    """(id, looked-up value, name key, region) rows as value → [(id, name key, region)]."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for account_id, value, name_key, region in rows:
        entries = found.setdefault(value, [])
        if all(account_id != other for other, _, _ in entries):  # two names merged into one account: one entry
            entries.append((account_id, name_key, region))
    return found


class Placing:
    """A batch's customers placed in accounts, touchpoint by touchpoint: their records' votes and the ties they make."""

    def __init__(
        self, sql: RawSql, observations: Sequence[Observation], outcomes: Sequence[Outcome], *, now: datetime
    ) -> None:
        self._named = [record_draft(o, outcome.customer) for o, outcome in zip(observations, outcomes, strict=True)]
        self.accounts = Accounts(sql, [*(golden_draft(o.customer) for o in outcomes), *self._named], now=now)
        created = {o.customer.id for o in outcomes if o.created}
        self._votes = Votes(sql, {o.customer.id for o in outcomes} - created)
        self._next = 0
        self.votes_cast: list[str] = []
        """Per touchpoint, the account its record's company named ("" for none or a replay)."""
        self.ties: list[account_merging.Tie] = []

    def place(self, customer: CustomerRecord, observation: Observation) -> None:
        """Set the account of the customer the next touchpoint resolved to, counting that record's vote."""
        named = self._named[self._next]
        self._next += 1
        previous = customer.account_id
        vote = self.accounts.named_by(named) if observation.record is not None else ""
        draft = golden_draft(customer)
        golden = self.accounts.existing(draft) if draft is not None else ""
        if draft is not None and not golden and not vote and named is not None and named.block == draft.block:
            golden = vote = self.accounts.founded(draft)  # a company new to every account, as the golden record says
        self.votes_cast.append(vote)
        self._votes.add(customer.id, vote)
        if draft is None:
            customer.account_id = ""  # a consumer, or junk
            return
        winner = self._votes.winner(customer.id, golden=golden, previous=previous, vote=vote)
        customer.account_id = winner or self.accounts.founded(draft)  # founded only when no record names one
        if observation.record is not None:
            self.ties.extend(self.accounts.ties(customer, previous=previous, named=named, vote=vote))
