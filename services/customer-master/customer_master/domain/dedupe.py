"""Batch identity resolution: source records in → customer and account of every record out.

Pure (no I/O), so ``crm dedupe`` and, later, the streaming side share it. The steps:

1. every record is normalised once with :func:`~customer_master.domain.matching.prepare`;
2. **blocking**: a record is compared only with records that share a blocking key, never
   with every other record. Customers block on the exact strong keys (unionid, WeCom
   external user id, mobile, e-mail), accounts on credit code and company key. With the
   weights in :mod:`~customer_master.domain.matching` this loses nothing: no pair without an
   equal strong key (customers) or an equal credit code / company key (accounts) can reach
   ``REVIEW`` (:func:`max_score_without_block_key` checks it, and a test holds it). A block
   with more than ``BLOCK_ALL_PAIRS`` distinct forms is compared in a sliding window only;
3. records with an identical normalised form are compared once (a 'signature'); when that
   self-pair does not merge automatically, each record stays apart (review: against the first);
4. **union-find** over ``auto_merge`` decisions; pairs already in one cluster are skipped;
5. junk records are never compared with real ones (the matcher caps such pairs anyway),
   so junk never shares a customer or an account with a real record;
6. accounts only: clusters that records of one customer name are joined when their names
   agree given that customer (a pinyin rendering, a typo, the region left out) — a person
   works for one organisation; another region, branch or name (a job change) stays apart;
7. ``review`` pairs that end in different clusters become :class:`Suggestion` s, one per pair
   of clusters (the strongest), with the evidence;
8. ids are derived from the smallest ``record_id`` of each cluster, so reruns and reordered
   input give the same ids.

A customer belongs to the account most of its records point at; a consumer (no record
with a company or credit code) has no account. Junk records get no account.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from customer_master.domain.matching import (
    PRIOR,
    WEIGHTS,
    Evidence,
    Kind,
    MatchRecord,
    prepare,
    score,
)
from customer_master.domain.names import PersonName

FIELDS: tuple[str, ...] = (
    "record_id",
    "source",
    "name",
    "phone",
    "email",
    "company",
    "credit_code",
    "unionid",
    "wecom_external_userid",
    "region",
    "industry",
    "address",
    "observed_at",
)
# Blocks with more distinct signatures than this are compared in a sliding window (sorted by
# smallest record_id) instead of all pairs: bounded work on a pathological key.
BLOCK_ALL_PAIRS = 200
BLOCK_WINDOW = 50

Progress = Callable[[str, int, int], None]
Forms = Sequence[MatchRecord] | Mapping[int, MatchRecord]


@dataclass(frozen=True)
class SourceRecord:
    """One input row: ``record_id`` plus any of the raw fields in :data:`FIELDS`."""

    record_id: str
    source: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    company: str = ""
    credit_code: str = ""
    unionid: str = ""
    wecom_external_userid: str = ""
    region: str = ""
    industry: str = ""
    address: str = ""
    observed_at: str = ""

    def prepared(self) -> MatchRecord:
        """The normalised form the matcher compares."""
        return prepare(
            name=self.name,
            phone=self.phone,
            email=self.email,
            company=self.company,
            credit_code=self.credit_code,
            unionid=self.unionid,
            wecom_external_userid=self.wecom_external_userid,
            region=self.region,
        )


@dataclass(frozen=True)
class Assignment:
    """Where one record landed."""

    record_id: str
    customer_id: str
    account_id: str | None
    junk: bool
    junk_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """A review-band pair whose records ended in different clusters: a person decides."""

    kind: Kind
    record_ids: tuple[str, str]
    cluster_ids: tuple[str, str]
    score: float
    evidence: tuple[Evidence, ...]


@dataclass
class Stats:
    """Counts for the summary line."""

    records: int = 0
    junk: int = 0
    customers: int = 0
    accounts: int = 0
    consumers: int = 0
    merged_records: int = 0
    comparisons: int = 0
    windowed_blocks: int = 0
    suggestions: int = 0


@dataclass
class Result:
    """Assignments in input order, suggestions in a stable order, and the counts."""

    assignments: list[Assignment]
    suggestions: list[Suggestion]
    stats: Stats = field(default_factory=Stats)


def customer_id_for(smallest_record_id: str) -> str:
    """The opaque customer id of a cluster whose smallest record_id is given."""
    return "cus_" + hashlib.blake2b(smallest_record_id.encode(), digest_size=10).hexdigest()


def account_id_for(smallest_record_id: str) -> str:
    """The opaque account id of a cluster whose smallest record_id is given."""
    return "acc_" + hashlib.blake2b(smallest_record_id.encode(), digest_size=10).hexdigest()


def customer_block_keys(record: MatchRecord) -> tuple[str, ...]:
    """The exact keys a customer record is blocked on."""
    keys = []
    if record.unionid:
        keys.append("u:" + record.unionid)
    if record.wecom_external_userid:
        keys.append("w:" + record.wecom_external_userid)
    if record.mobile:
        keys.append("m:" + record.mobile)
    if record.email:
        keys.append("e:" + record.email)
    return tuple(keys)


def account_block_keys(record: MatchRecord) -> tuple[str, ...]:
    """The exact keys an account record is blocked on (credit code, company key)."""
    keys = []
    if record.credit_code:
        keys.append("c:" + record.credit_code)
    if record.company.key:
        keys.append("k:" + record.company.key)
    return tuple(keys)


def has_account(record: MatchRecord) -> bool:
    """Whether a record names an organisation."""
    return bool(record.credit_code or record.company.core)


def max_score_without_block_key(kind: Kind) -> float:
    """Upper bound of the score of a pair sharing no blocking key (blocking is lossless below REVIEW)."""
    positive: tuple[str, ...]
    if kind == "customer":
        positive = ("landline_equal", "name_equal", "company_key_equal", "region_fits", "email_domain_equal")
    else:
        positive = ("landline_equal_account", "company_core_equal", "region_fits", "email_domain_equal")
    logit = PRIOR + sum(max(WEIGHTS[rule], 0.0) for rule in positive)
    return 1.0 / (1.0 + math.exp(-logit))


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class _Clustering:
    """Record index → cluster id, and the suggestions between clusters."""

    cluster_of: dict[int, str]
    suggestions: list[Suggestion]
    comparisons: int
    windowed_blocks: int


class _Clusterer:
    """One clustering pass (customers or accounts): signatures, blocks, union-find, suggestions."""

    def __init__(self, kind: Kind, forms: Forms, record_ids: Sequence[str], members: Sequence[int]):
        self.kind: Kind = kind
        self.record_ids = record_ids
        self.members = members
        # Identical normalised forms are compared once: a 'signature' and the records behind it,
        # each list sorted by record_id, signatures ordered by their smallest record_id.
        behind: dict[MatchRecord, list[int]] = defaultdict(list)
        for index in members:
            behind[forms[index]].append(index)
        for group in behind.values():
            group.sort(key=record_ids.__getitem__)
        self.signatures = sorted(behind, key=lambda s: record_ids[behind[s][0]])
        self.groups = [behind[s] for s in self.signatures]
        # Union-find over signatures; ``whole[s]``: the records behind ``s`` are one cluster
        # (its self-pair merges). A signature joined to another always brings all its records.
        self.found = _UnionFind(len(self.signatures))
        self.whole = [len(group) == 1 for group in self.groups]
        self.review: list[tuple[float, int, int, tuple[Evidence, ...]]] = []
        self.comparisons = 0
        self.windowed = 0

    def _judge(self, a: int, b: int) -> None:
        """Score signatures ``a`` and ``b`` (equal for the self-pair) and act on the decision."""
        self.comparisons += 1
        match = score(self.signatures[a], self.signatures[b], self.kind)
        group_a, group_b = self.groups[a], self.groups[b]
        if match.decision == "auto_merge":
            if a == b:
                self.whole[a] = True
            self.found.union(a, b)
        elif match.decision == "review":
            # The self-pair of a signature that does not merge: each record against the first.
            others = group_b[1:] if a == b else group_b[:1]
            self.review.extend((match.score, group_a[0], other, match.evidence) for other in others)

    def compare(self, keys_of: Callable[[MatchRecord], tuple[str, ...]], progress: Progress | None) -> None:
        """Every pair of signatures sharing a block (a window of a wide block), and each signature with itself."""
        for position, group in enumerate(self.groups):
            if len(group) > 1:
                self._judge(position, position)
        blocks: dict[str, list[int]] = defaultdict(list)
        for position, signature in enumerate(self.signatures):
            for key in keys_of(signature):
                blocks[key].append(position)  # positions ascend: a block is sorted by smallest record_id
        multi = sorted(block for block in blocks.values() if len(block) > 1)
        find, signatures = self.found.find, self.signatures
        for done, block in enumerate(multi, 1):
            wide = len(block) > BLOCK_ALL_PAIRS
            self.windowed += wide
            for i, a in enumerate(block):
                stop = min(len(block), i + 1 + BLOCK_WINDOW) if wide else len(block)
                for b in block[i + 1 : stop]:
                    if find(a) == find(b):
                        continue
                    if bool(signatures[a].junk) == bool(signatures[b].junk):  # junk never meets real records
                        self._judge(a, b)
            if progress is not None and (done % 2000 == 0 or done == len(multi)):
                progress(f"{self.kind} blocks", done, len(multi))

    def result(self, make_id: Callable[[str], str]) -> _Clustering:
        """Cluster ids from each cluster's smallest record_id; one suggestion per pair of clusters."""
        record_ids, find = self.record_ids, self.found.find
        roots = [find(position) for position in range(len(self.signatures))]
        sizes = Counter(roots)
        cluster_of: dict[int, str] = {}
        smallest: dict[int, str] = {}  # root → smallest record_id (groups are sorted)
        for position, group in enumerate(self.groups):
            root = roots[position]
            if sizes[root] > 1 or self.whole[position]:
                if root not in smallest or record_ids[group[0]] < smallest[root]:
                    smallest[root] = record_ids[group[0]]
            else:  # a signature whose identical records do not merge: each its own cluster
                for index in group:
                    cluster_of[index] = make_id(record_ids[index])
        ids = {root: make_id(rid) for root, rid in smallest.items()}
        for position, group in enumerate(self.groups):
            root = roots[position]
            if root in ids:
                for index in group:
                    cluster_of[index] = ids[root]
        # The strongest pair between two clusters, ties to the smallest record ids.
        best: dict[tuple[str, str], Suggestion] = {}
        for value, a, b, evidence in self.review:
            (ra, ca), (rb, cb) = sorted(((record_ids[a], cluster_of[a]), (record_ids[b], cluster_of[b])))
            if ca == cb:
                continue
            pair = (min(ca, cb), max(ca, cb))
            known = best.get(pair)
            if known is None or (-value, (ra, rb)) < (-known.score, known.record_ids):
                best[pair] = Suggestion(self.kind, (ra, rb), (ca, cb), value, evidence)
        suggestions = sorted(best.values(), key=lambda s: (-s.score, s.record_ids))
        return _Clustering(cluster_of, suggestions, self.comparisons, self.windowed)

    def join_within(self, owners: Mapping[int, str]) -> None:
        """Merge clusters whose records one customer (``owners``: record → customer) names, when the
        names agree given that customer (an English rendering, a typo, a name without its region)."""
        position_of = {index: position for position, group in enumerate(self.groups) for index in group}
        by_owner: dict[str, list[int]] = defaultdict(list)
        for index, owner in owners.items():
            if index in position_of:
                by_owner[owner].append(position_of[index])
        find = self.found.find
        for positions in by_owner.values():
            firsts: dict[int, int] = {}
            for position in sorted(set(positions)):
                firsts.setdefault(find(position), position)
            heads = sorted(firsts.values())
            for i, a in enumerate(heads):
                for b in heads[i + 1 :]:
                    if find(a) != find(b):
                        self.comparisons += 1
                        match = score(self.signatures[a], self.signatures[b], self.kind, same_customer=True)
                        if match.decision == "auto_merge":
                            self.found.union(a, b)


def _cluster(
    kind: Kind,
    forms: Forms,
    record_ids: Sequence[str],
    members: Sequence[int],
    keys_of: Callable[[MatchRecord], tuple[str, ...]],
    make_id: Callable[[str], str],
    progress: Progress | None,
    owners: Mapping[int, str] | None = None,
) -> _Clustering:
    """Cluster the records ``members`` (indexes into ``forms``) by blocking, scoring and union-find;
    then, given ``owners``, join clusters one customer names (:meth:`_Clusterer.join_within`)."""
    clusterer = _Clusterer(kind, forms, record_ids, members)
    clusterer.compare(keys_of, progress)
    if owners is not None:
        clusterer.join_within(owners)
    return clusterer.result(make_id)


def resolve(records: Sequence[SourceRecord], progress: Progress | None = None) -> Result:
    """Assign every record a customer and (unless a consumer or junk) an account.

    ``record_id`` values must be unique; the caller validates input.
    """
    record_ids = [record.record_id for record in records]
    if len(set(record_ids)) != len(record_ids):
        raise ValueError("record_id values must be unique")
    forms: list[MatchRecord] = []
    for done, record in enumerate(records, 1):
        forms.append(record.prepared())
        if progress is not None and (done % 5000 == 0 or done == len(records)):
            progress("normalise", done, len(records))
    return resolve_prepared(record_ids, forms, progress)


def resolve_prepared(
    record_ids: Sequence[str], forms: Sequence[MatchRecord], progress: Progress | None = None
) -> Result:
    """:func:`resolve` for records already normalised (``forms[i]`` is ``record_ids[i]``)."""
    everyone = range(len(forms))
    customers = _cluster("customer", forms, record_ids, everyone, customer_block_keys, customer_id_for, progress)
    organisations = [i for i in everyone if has_account(forms[i]) and not forms[i].junk]
    account_forms = {i: _account_form(forms[i]) for i in organisations}
    accounts = _cluster(
        "account",
        account_forms,
        record_ids,
        organisations,
        account_block_keys,
        account_id_for,
        progress,
        owners={i: customers.cluster_of[i] for i in organisations},
    )
    # A customer belongs to the account most of its records name (ties: the smaller id).
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for index, account_id in accounts.cluster_of.items():
        votes[customers.cluster_of[index]][account_id] += 1
    account_of_customer = {
        customer_id: min(counts, key=lambda account_id: (-counts[account_id], account_id))
        for customer_id, counts in votes.items()
    }
    assignments = []
    for index in everyone:
        customer_id = customers.cluster_of[index]
        junk = forms[index].junk
        assignments.append(
            Assignment(
                record_id=record_ids[index],
                customer_id=customer_id,
                account_id=None if junk else account_of_customer.get(customer_id),
                junk=bool(junk),
                junk_reasons=junk,
            )
        )
    stats = Stats(
        records=len(forms),
        junk=sum(1 for form in forms if form.junk),
        customers=len(set(customers.cluster_of.values())),
        accounts=len(set(account_of_customer.values())),
        consumers=len(set(customers.cluster_of.values()) - set(account_of_customer)),
        comparisons=customers.comparisons + accounts.comparisons,
        windowed_blocks=customers.windowed_blocks + accounts.windowed_blocks,
    )
    stats.merged_records = stats.records - stats.customers
    suggestions = customers.suggestions + accounts.suggestions
    stats.suggestions = len(suggestions)
    return Result(assignments=assignments, suggestions=suggestions, stats=stats)


_NO_NAME = PersonName("", "empty")


def _account_form(record: MatchRecord) -> MatchRecord:
    """The fields the account matcher reads; person-only fields cleared so one organisation collapses."""
    return MatchRecord(
        landline=record.landline,
        email=record.email,
        name=_NO_NAME,
        company=record.company,
        credit_code=record.credit_code,
        region_code=record.region_code,
        junk=record.junk,
    )
