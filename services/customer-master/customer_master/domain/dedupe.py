"""Batch identity resolution: source records in → customer and account of every record out.

Pure (no I/O), so ``crm dedupe`` and, later, the streaming side share it. The steps:

1. every record is normalised once with :func:`~customer_master.domain.matching.prepare`
   (as the flat tuple :func:`~customer_master.domain.matching.prepare_flat` gives: the same
   fields, several times cheaper to hash, compare and pass between processes; pairs are
   scored with :func:`~customer_master.domain.matching.score_flat`, the same rules and
   numbers as ``score``, and only review-band pairs get their evidence written out);
2. **blocking**: a record is compared only with records that share a blocking key, never
   with every other record. Customers block on the exact strong keys (unionid, WeCom
   external user id, mobile, e-mail) and on a clear full name at one organisation, accounts
   on credit code, company key and, where a Latin name shares it, a name's sound (pinyin,
   English trades translated). With the weights in :mod:`~customer_master.domain.matching`
   this loses nothing: no pair that shares no block can reach ``REVIEW`` (a name at an
   organisation or a shared sound are blocks themselves; :func:`max_score_without_block_key`
   checks the rest, and a test holds it). A block
   with more than ``BLOCK_ALL_PAIRS`` distinct forms is compared in a sliding window only;
3. records with an identical normalised form are compared once (a 'signature'); when that
   self-pair does not merge automatically, each record stays apart (review: against the first);
4. **union-find** over ``auto_merge`` decisions; pairs already in one cluster are skipped;
5. junk records are never compared with real ones (the matcher caps such pairs anyway),
   so junk never shares a customer or an account with a real record;
6. accounts only: clusters that records of one customer name are joined when their names
   agree given that customer (a pinyin rendering, a typo, the region left out) — a person
   works for one organisation; another region, branch or name (a job change) stays apart;
   and records of one company name are one account per region (:meth:`_Clusterer.join_regions`:
   a name without a region joins the one region it is found in, branches stay apart); names that
   sound alike (a homophone typo, a pinyin or English rendering) join the one account they can be
   (:meth:`_Clusterer.join_sounds`). Neither a customer's records nor a name without a region ever
   join two credit codes, or two places of registration that cannot be one, into one account
   (:meth:`_Clusterer._guarded_union`: the region a name carries, the division a credit code holds);
7. ``review`` pairs that end in different clusters become :class:`Suggestion` s, one per pair
   of clusters (the strongest), with the evidence;
8. ids are derived from the smallest ``record_id`` of each cluster, so reruns and reordered
   input give the same ids.

A customer belongs to the account most of its records point at (ties: the account more customers
name); a consumer (no record with a company or credit code) has no account. Junk records get no
account.

Cost, for ``crm dedupe`` on a million records: the account pass's comparisons may run aside
(another process, ``resolve_flat(run_aside=...)``) while the customers are clustered, as they
meet only afterwards; skipping pairs already in one cluster changes neither the clusters nor
the suggestions, only how many comparisons are made (counted in :class:`Stats`, unchanged).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, overload

from customer_master.domain.companies import company_pinyin, company_sound
from customer_master.domain.credit_codes import registered_region
from customer_master.domain.matching import (
    BRANCH,
    COMPANY_KEY,
    COMPANY_REGION,
    CORE,
    CREDIT_CODE,
    EMAIL,
    JUNK,
    LANDLINE,
    LEGAL_FORM,
    MOBILE,
    NAME,
    NAME_KIND,
    PRIOR,
    REGION,
    UNIONID,
    WECOM,
    WEIGHTS,
    Evidence,
    FlatRecord,
    Kind,
    MatchRecord,
    decide,
    flatten,
    prepare,
    prepare_flat,
    score,
    score_flat,
    unflatten,
)
from customer_master.domain.regions import region_compatible

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
FlatForms = Sequence[FlatRecord] | Mapping[int, FlatRecord]


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

    def prepared_flat(self) -> FlatRecord:
        """``flatten(self.prepared())``, the batch engine's form."""
        return prepare_flat(
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


class Assignments(Sequence[Assignment]):
    """Every record's :class:`Assignment`, in input order, kept as columns and built when read.

    A million frozen dataclasses take seconds to build and hundreds of MB to hold; a writer that
    only streams the values reads :meth:`rows` instead.
    """

    def __init__(
        self,
        record_ids: Sequence[str],
        customer_ids: Sequence[str],
        account_ids: Sequence[str | None],
        junk_reasons: Sequence[tuple[str, ...]],
    ) -> None:
        if not len(record_ids) == len(customer_ids) == len(account_ids) == len(junk_reasons):
            raise ValueError("the columns of Assignments must have one length")
        self._columns = (record_ids, customer_ids, account_ids, junk_reasons)

    def __len__(self) -> int:
        return len(self._columns[0])

    @overload
    def __getitem__(self, index: int) -> Assignment: ...

    @overload
    def __getitem__(self, index: slice) -> list[Assignment]: ...

    def __getitem__(self, index: int | slice) -> Assignment | list[Assignment]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        record_ids, customer_ids, account_ids, junk_reasons = self._columns
        return Assignment(
            record_ids[index], customer_ids[index], account_ids[index], bool(junk_reasons[index]), junk_reasons[index]
        )

    def __iter__(self) -> Iterator[Assignment]:
        for record_id, customer_id, account_id, junk in self.rows():
            yield Assignment(record_id, customer_id, account_id, bool(junk), junk)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence: like a list, not hashable

    def rows(self) -> Iterator[tuple[str, str, str | None, tuple[str, ...]]]:
        """(record_id, customer_id, account_id, junk_reasons) per record, without building objects."""
        return zip(*self._columns, strict=True)

    def __repr__(self) -> str:
        return f"Assignments({list(self)!r})"


@dataclass
class Result:
    """Assignments in input order, suggestions in a stable order, and the counts."""

    assignments: Sequence[Assignment]
    suggestions: list[Suggestion]
    stats: Stats = field(default_factory=Stats)


def customer_id_for(smallest_record_id: str) -> str:
    """The opaque customer id of a cluster whose smallest record_id is given."""
    return "cus_" + hashlib.blake2b(smallest_record_id.encode(), digest_size=10).hexdigest()


def account_id_for(smallest_record_id: str) -> str:
    """The opaque account id of a cluster whose smallest record_id is given."""
    return "acc_" + hashlib.blake2b(smallest_record_id.encode(), digest_size=10).hexdigest()


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


_State = tuple[list[int], list[bool], list[tuple[float, int, int, tuple[Evidence, ...]]], int, int, int]
_T = TypeVar("_T")


class RunAside(Protocol):
    """Starts ``work`` elsewhere (another process) and returns how to wait for its result."""

    def __call__(self, work: Callable[[], _T], /) -> Callable[[], _T]: ...


def _name_at_company(signature: FlatRecord) -> str:
    """The block of a clear full name at one organisation ('张蕾|610100|恩远科技'); "" if either is missing."""
    if signature[NAME_KIND] != "full" or not signature[COMPANY_KEY]:
        return ""
    return f"{signature[NAME]}|{signature[COMPANY_KEY]}"


def _account_keys(signatures: Sequence[FlatRecord]) -> tuple[BlockKey, ...]:
    """What accounts are blocked on: credit code, company key, and the sound of a name that some Latin
    name shares ('yuanlianmaoyi': 'Yuanlian Trading' ~ '元联贸易'); sounds no Latin name has tie nothing."""
    latin = {company_pinyin(core) for s in signatures if (core := s[CORE]) and core.isascii()}
    if not latin:
        return (CREDIT_CODE, COMPANY_KEY)

    def shared_sound(signature: FlatRecord) -> str:
        sound = company_pinyin(signature[CORE]) if signature[CORE] else ""
        return sound if sound in latin else ""

    return (CREDIT_CODE, COMPANY_KEY, shared_sound)


# What customers are blocked on (accounts: _account_keys): flat fields (unionid, WeCom id, mobile,
# e-mail), or a function of the flat record for a composite key.
BlockKey = int | Callable[[FlatRecord], str]
_CUSTOMER_KEYS: tuple[BlockKey, ...] = (UNIONID, WECOM, MOBILE, EMAIL, _name_at_company)


class _Clusterer:
    """One clustering pass (customers or accounts): signatures, blocks, union-find, suggestions.

    Works on :data:`~customer_master.domain.matching.FlatRecord` s: hashing, comparing and
    scoring them is several times cheaper than the nested dataclasses, with the same results.
    """

    def __init__(self, kind: Kind, forms: FlatForms, record_ids: Sequence[str], members: Sequence[int]):
        """``members``: the records to cluster (indexes into ``forms``), in ``record_id`` order."""
        self.kind: Kind = kind
        self.record_ids = record_ids
        # Identical normalised forms are compared once: a 'signature' and the records behind it.
        # Members come in record_id order, so each group is sorted by record_id and signatures
        # are ordered by their smallest record_id.
        behind: dict[FlatRecord, list[int]] = {}
        signatures: list[FlatRecord] = []
        groups: list[list[int]] = []
        for index in members:
            form = forms[index]
            group = behind.get(form)
            if group is None:
                behind[form] = group = [index]
                signatures.append(form)
                groups.append(group)
            else:
                group.append(index)
        self.signatures = signatures
        self.groups = groups
        # Union-find over signatures; ``whole[s]``: the records behind ``s`` are one cluster
        # (its self-pair merges). A signature joined to another always brings all its records.
        self.found = _UnionFind(len(signatures))
        self.whole = [len(group) == 1 for group in groups]
        self.review: list[tuple[float, int, int, tuple[Evidence, ...]]] = []
        self.comparisons = 0
        self.windowed = 0
        self.blocks = 0  # blocks of two or more signatures compared

    def state(self) -> _State:
        """What :meth:`compare` found, to hand to a copy of this clusterer (:meth:`adopt`)."""
        return self.found.parent, self.whole, self.review, self.comparisons, self.windowed, self.blocks

    def adopt(self, state: _State) -> None:
        """Take over what :meth:`compare` found in a copy of this clusterer (same forms, same members)."""
        parent, whole, self.review, self.comparisons, self.windowed, self.blocks = state
        if len(parent) != len(self.signatures) or len(whole) != len(self.signatures):
            raise ValueError("a state from another clusterer")
        self.found.parent, self.whole = parent, whole

    def _judge(self, a: int, b: int) -> None:
        """Score signatures ``a`` and ``b`` (equal for the self-pair) and act on the decision."""
        self.comparisons += 1
        signature_a, signature_b = self.signatures[a], self.signatures[b]
        decision = decide(score_flat(signature_a, signature_b, self.kind))
        if decision == "auto_merge":
            if a == b:
                self.whole[a] = True
            self.found.union(a, b)
        elif decision == "review":
            # The evidence is formatted only for the few pairs a person will see.
            match = score(unflatten(signature_a), unflatten(signature_b), self.kind)
            group_a, group_b = self.groups[a], self.groups[b]
            # The self-pair of a signature that does not merge: each record against the first.
            others = group_b[1:] if a == b else group_b[:1]
            self.review.extend((match.score, group_a[0], other, match.evidence) for other in others)

    def _blocks(self, fields: Sequence[BlockKey]) -> list[list[int]]:
        """The blocks of two or more signatures, each sorted, in sorted order (the order they are compared in)."""
        multi: list[list[int]] = []
        for key in fields:
            blocks: dict[str, list[int]] = {}
            for position, signature in enumerate(self.signatures):
                value = key(signature) if callable(key) else signature[key]
                if value:
                    block = blocks.get(value)  # type: ignore[arg-type]  # the key fields are str
                    if block is None:
                        blocks[value] = [position]  # type: ignore[index]
                    else:
                        block.append(position)  # positions ascend: a block is sorted by smallest record_id
            multi.extend(block for block in blocks.values() if len(block) > 1)
        multi.sort()
        return multi

    def compare(self, fields: Sequence[BlockKey], progress: Progress | None) -> None:
        """Every pair of signatures sharing a block (a window of a wide block), and each signature with itself."""
        for position, group in enumerate(self.groups):
            if len(group) > 1:
                self._judge(position, position)
        multi = self._blocks(fields)
        self.blocks = len(multi)
        find, judge = self.found.find, self._judge
        junk = [bool(signature[JUNK]) for signature in self.signatures]
        for done, block in enumerate(multi, 1):
            size = len(block)
            if size == 2:  # most blocks: one pair
                a, b = block
                if junk[a] == junk[b] and find(a) != find(b):
                    judge(a, b)
            else:
                self._compare_block(block, junk)
            if progress is not None and (done % 2000 == 0 or done == len(multi)):
                progress(f"{self.kind} blocks", done, len(multi))

    def _compare_block(self, block: list[int], junk: list[bool]) -> None:
        """The pairs of one block (of three or more signatures) not yet in one cluster, each judged once."""
        find, judge = self.found.find, self._judge
        size = len(block)
        wide = size > BLOCK_ALL_PAIRS
        self.windowed += wide
        head = block[0]
        joined = 1  # block[:joined] are known to be one cluster: pairs among them are skipped
        for i, a in enumerate(block):
            while joined < size and find(block[joined]) == find(head):
                joined += 1
            stop = min(size, i + 1 + BLOCK_WINDOW) if wide else size
            for b in block[joined if i < joined else i + 1 : stop]:
                if junk[a] == junk[b] and find(a) != find(b):  # junk never meets real records
                    judge(a, b)

    def result(self, make_id: Callable[[str], str]) -> _Clustering:
        """Cluster ids from each cluster's smallest record_id; one suggestion per pair of clusters."""
        record_ids, find = self.record_ids, self.found.find
        roots = [find(position) for position in range(len(self.signatures))]
        sizes = Counter(roots)
        cluster_of: dict[int, str] = {}
        ids: dict[int, str] = {}  # root → id of its smallest record_id (signatures are in that order)
        for position, group in enumerate(self.groups):
            root = roots[position]
            if sizes[root] > 1 or self.whole[position]:
                cluster_id = ids.get(root)
                if cluster_id is None:
                    ids[root] = cluster_id = make_id(record_ids[group[0]])
                for index in group:
                    cluster_of[index] = cluster_id
            else:  # a signature whose identical records do not merge: each its own cluster
                for index in group:
                    cluster_of[index] = make_id(record_ids[index])
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

    def _guarded_union(self) -> Callable[[int, int], bool]:
        """A union that refuses to make one account of two registered entities: two credit codes, or
        two places of registration that cannot be one (a region named in a company name, or the
        division a credit code is registered in). Returns whether the two are now one cluster.

        Why it holds of real data: a credit code names one legal entity, and its characters 3-8 are
        the division of the authority that registered it (GB 32100-2015), as the region in a name is
        the registry's (企业名称登记管理规定); a group's subsidiaries are registered where they sit
        (丰捷信息技术（成都）有限公司 beside the Wuhan head office). Pairwise, another region already
        keeps two names apart; but staff of the head office and of a subsidiary alike type the bare
        trade name ('丰捷', '丰捷信息技术'), and each customer that ties that bare name to their own
        firm would otherwise chain head office and subsidiaries into one account. A cluster whose
        places already disagree (a misread name, a mistyped but valid code) constrains nothing.
        """
        find, union = self.found.find, self.found.union
        places: dict[int, set[str]] = defaultdict(set)
        codes: dict[int, set[str]] = defaultdict(set)
        for position, signature in enumerate(self.signatures):
            region, code = signature[COMPANY_REGION], signature[CREDIT_CODE]
            if region or code:
                root = find(position)
                if region:
                    places[root].add(region)
                if code:
                    codes[root].add(code)
                    if registered := registered_region(code):
                        places[root].add(registered)

        def join(a: int, b: int) -> bool:
            ra, rb = find(a), find(b)
            if ra == rb:
                return True
            if len(codes.get(ra, _NONE) | codes.get(rb, _NONE)) > 1:
                return False
            if not _places_fit(places.get(ra, _NONE), places.get(rb, _NONE)):
                return False
            union(ra, rb)
            root, other = min(ra, rb), max(ra, rb)
            if other in places:
                places[root] |= places.pop(other)
            if other in codes:
                codes[root] |= codes.pop(other)
            return True

        return join

    def join_within(self, owners: Mapping[int, str]) -> None:
        """Merge clusters whose records one customer (``owners``: record → customer) names, when the
        names agree given that customer (an English rendering, a typo, a name without its region),
        and the clusters are not registered in two places or under two credit codes (:meth:`_guarded_union`)."""
        position_of = {index: position for position, group in enumerate(self.groups) for index in group}
        by_owner: dict[str, list[int]] = defaultdict(list)
        for index, owner in owners.items():
            if index in position_of:
                by_owner[owner].append(position_of[index])
        find, signatures = self.found.find, self.signatures
        join = self._guarded_union()
        for positions in by_owner.values():
            if len(positions) == 1:
                continue  # one signature: nothing to join
            firsts: dict[int, int] = {}
            for position in sorted(set(positions)):
                firsts.setdefault(find(position), position)
            heads = sorted(firsts.values())
            for i, a in enumerate(heads):
                for b in heads[i + 1 :]:
                    if find(a) != find(b):
                        self.comparisons += 1
                        value = score_flat(signatures[a], signatures[b], self.kind, same_customer=True)
                        if decide(value) == "auto_merge":
                            join(a, b)

    def join_regions(self) -> None:
        """Join the records of one company name (core and branch, credit codes permitting) into its account.

        Records whose name carries a region are one account per region (a province beside its one
        city counts as that city). A name without a region joins that account when the name is found
        in exactly one region; when found in several (branches), it joins the one its record's region
        fits, if exactly one fits, else stays apart. A name found in no region at all is one account
        per record region (as :mod:`~customer_master.domain.accounts` keys accounts), and a record
        without any region joins it when there is exactly one. A join that would make one account of
        two places of registration is refused (:meth:`_guarded_union`): a name typed without its region
        whose account already holds a credit code of Wuhan does not join the one Chengdu account of
        that name.
        """
        signatures, find = self.signatures, self.found.find
        by_name: dict[str, list[int]] = defaultdict(list)
        for position, signature in enumerate(signatures):
            key = signature[COMPANY_KEY]
            if key and not signature[JUNK]:
                by_name[key.partition("|")[2]].append(position)

        guarded = self._guarded_union()

        def join(positions: Sequence[int]) -> None:
            head = positions[0]
            self.whole[head] = True  # identical records of one name in one region: one account
            for position in positions[1:]:
                if find(position) != find(head):
                    guarded(head, position)

        for positions in by_name.values():
            if len(positions) > 1 or len(self.groups[positions[0]]) > 1:
                for members in _one_name_accounts(signatures, positions):
                    join(members)

    def join_sounds(self) -> None:
        """Join names that sound alike into the one account they can be (after :meth:`join_regions`).

        Names are grouped by sound (:func:`~customer_master.domain.companies.company_sound`; Latin
        names by :func:`~customer_master.domain.companies.company_pinyin`, English trades translated)
        and branch. A group is left alone when its credit codes or named regions conflict (siblings in
        two provinces), or when one spelling is already split across accounts (a name per region).
        Otherwise:

        * Han spellings one homophone apart ('青锋网络科技' ~ '青峰网络科技') are one account: a sound-alike
          typo is how a name typed by ear goes wrong, and registration long refused a name 'similar'
          (相同或者近似) to one of the same trade at the same registry (企业名称登记管理实施办法, 2004);
        * a Latin name (a pinyin or English rendering, as reps and web forms type it) joins the Han name
          it sounds like when that name is one account: the registered English name renders the Han
          one, and no other organisation in the data could be meant.
        """
        for positions in _by_sound(self.signatures).values():
            if len(positions) > 1:
                self._join_sound_alikes(positions)

    def _join_sound_alikes(self, positions: list[int]) -> None:
        """:meth:`join_sounds` for one group of names of one sound and branch."""
        signatures, find, union = self.signatures, self.found.find, self.found.union
        if len({signatures[p][CREDIT_CODE] for p in positions} - {""}) > 1:
            return  # two registered entities
        regions = sorted({signatures[p][COMPANY_REGION] for p in positions} - {""})
        if any(not region_compatible(a, b) for i, a in enumerate(regions) for b in regions[i + 1 :]):
            return  # siblings in two places
        roots_of: dict[str, set[int]] = defaultdict(set)
        latin: list[int] = []
        for p in positions:
            core = signatures[p][CORE]
            if core.isascii():
                latin.append(p)
            else:
                roots_of[core].add(find(p))
        if any(len(roots) > 1 for roots in roots_of.values()):
            return  # one spelling, several accounts (a name per region): ambiguous
        cores = sorted(roots_of)
        if len(cores) > 1 and all(_one_homophone_apart(a, b) for i, a in enumerate(cores) for b in cores[i + 1 :]):
            heads = [next(iter(roots_of[core])) for core in cores]
            for head in heads[1:]:
                union(heads[0], head)
        han_roots = {find(p) for p in positions if not signatures[p][CORE].isascii()}
        if len(han_roots) == 1:
            head = next(iter(han_roots))
            for p in latin:
                union(head, p)


def _by_sound(signatures: Sequence[FlatRecord]) -> dict[tuple[str, str], list[int]]:
    """Positions of the (real) signatures with a company name, by the name's sound and branch."""
    by_sound: dict[tuple[str, str], list[int]] = defaultdict(list)
    sounds: dict[str, str] = {}
    for position, signature in enumerate(signatures):
        core = signature[CORE]
        if not core or signature[JUNK]:
            continue
        sound = sounds.get(core)
        if sound is None:
            sounds[core] = sound = company_pinyin(core) if core.isascii() else company_sound(core)
        if sound:
            by_sound[(sound, signature[BRANCH])].append(position)
    return by_sound


_NONE: frozenset[str] = frozenset()


def _places_fit(a: Set[str], b: Set[str]) -> bool:
    """Whether two sets of registration regions can be one place (a set that already disagrees with
    itself, a misread name or a mistyped code within, says nothing)."""
    if not a or not b or _torn(a) or _torn(b):
        return True
    return all(region_compatible(x, y) for x in a for y in b)


def _torn(places: Set[str]) -> bool:
    """Whether some two of ``places`` cannot be one place."""
    if len(places) < 2:
        return False
    ordered = sorted(places)
    return any(not region_compatible(x, y) for i, x in enumerate(ordered) for y in ordered[i + 1 :])


def _one_homophone_apart(a: str, b: str) -> bool:
    """Two Han names of one length that differ in exactly one character (their sounds are equal)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _one_name_accounts(signatures: Sequence[FlatRecord], positions: list[int]) -> list[list[int]]:
    """The groups of ``positions`` (signatures of one name) that are one account each, as ``join_regions`` says."""
    if len({signatures[p][CREDIT_CODE] for p in positions} - {""}) > 1:
        return []  # two registered entities under one name: leave it to the matcher
    named: dict[str, list[int]] = defaultdict(list)
    unnamed: dict[str, list[int]] = defaultdict(list)
    for position in positions:
        signature = signatures[position]
        if signature[COMPANY_REGION]:
            named[signature[COMPANY_REGION]].append(position)
        else:
            unnamed[signature[REGION]].append(position)
    placed = [members for _, members in _fold_provinces(named)]
    if len(placed) == 1:
        return [placed[0] + [p for members in unnamed.values() for p in members]]
    if placed:
        codes = [code for code, _ in _fold_provinces(named)]
        groups = list(placed)
        for region, members in unnamed.items():
            fits = [i for i, code in enumerate(codes) if region and region_compatible(code, region)]
            if len(fits) == 1:
                groups.append(placed[fits[0]][:1] + members)
        return groups
    regional = [members for _, members in _fold_provinces({r: m for r, m in unnamed.items() if r})]
    if len(regional) == 1 and "" in unnamed:
        return [regional[0] + unnamed[""]]
    return regional


def _fold_provinces(regions: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
    """``regions`` (code → positions) with a province's positions moved to its one city, when it has one
    ('陕西' and '西安' can be one place; '陕西' beside '西安' and '宝鸡' cannot be placed)."""
    folded = dict(regions)
    for code in regions:
        if code.endswith("0000"):
            cities = [other for other in regions if other != code and other[:2] == code[:2]]
            if len(cities) == 1:
                folded[cities[0]] = folded[cities[0]] + folded.pop(code)
    return sorted(folded.items())


def _cluster(
    kind: Kind,
    forms: FlatForms,
    record_ids: Sequence[str],
    members: Sequence[int],
    fields: Sequence[BlockKey],
    make_id: Callable[[str], str],
    progress: Progress | None,
    owners: Mapping[int, str] | None = None,
) -> _Clustering:
    """Cluster the records ``members`` (indexes into ``forms``, in record_id order) by blocking on the
    flat ``fields``, scoring and union-find; then, given ``owners``, join clusters one customer names
    (:meth:`_Clusterer.join_within`)."""
    clusterer = _Clusterer(kind, forms, record_ids, members)
    clusterer.compare(fields, progress)
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
    forms: list[FlatRecord] = []
    for done, record in enumerate(records, 1):
        forms.append(record.prepared_flat())
        if progress is not None and (done % 5000 == 0 or done == len(records)):
            progress("normalise", done, len(records))
    return resolve_flat(record_ids, forms, progress)


def resolve_prepared(
    record_ids: Sequence[str], forms: Sequence[MatchRecord], progress: Progress | None = None
) -> Result:
    """:func:`resolve` for records already normalised (``forms[i]`` is ``record_ids[i]``)."""
    return resolve_flat(record_ids, [flatten(form) for form in forms], progress)


def resolve_flat(
    record_ids: Sequence[str],
    forms: Sequence[FlatRecord],
    progress: Progress | None = None,
    *,
    run_aside: RunAside | None = None,
) -> Result:
    """:func:`resolve` for records normalised to flat records (``forms[i]`` is ``record_ids[i]``).

    ``run_aside``: compare the accounts' blocks there (e.g. a forked process) while this process
    clusters the customers; the two passes meet only afterwards, so the result is the same.
    """
    count = len(forms)
    order = sorted(range(count), key=record_ids.__getitem__)
    organisation = [bool(form[CREDIT_CODE] or form[CORE]) and not form[JUNK] for form in forms]
    account_forms = {i: account_flat(forms[i]) for i in range(count) if organisation[i]}
    accounts = _Clusterer("account", account_forms, record_ids, [i for i in order if organisation[i]])
    if run_aside is not None:

        def compare_accounts() -> _State:
            accounts.compare(_account_keys(accounts.signatures), None)
            return accounts.state()

        compared = run_aside(compare_accounts)
    customers = _cluster("customer", forms, record_ids, order, _CUSTOMER_KEYS, customer_id_for, progress)
    customer_of = customers.cluster_of
    if run_aside is None:
        accounts.compare(_account_keys(accounts.signatures), progress)
    else:
        accounts.adopt(compared())
        if progress is not None and accounts.blocks:
            progress("account blocks", accounts.blocks, accounts.blocks)
    accounts.join_regions()
    accounts.join_sounds()
    # Clusters one customer names are joined in input order.
    accounts.join_within({i: customer_of[i] for i in account_forms})
    account_clusters = accounts.result(account_id_for)
    # A customer belongs to the account most of its records name (ties: the account most customers
    # name, then the smaller id).
    votes: dict[str, dict[str, int]] = {}
    for index, account_id in account_clusters.cluster_of.items():
        counts = votes.setdefault(customer_of[index], {})
        counts[account_id] = counts.get(account_id, 0) + 1
    # Ties go to the account more customers name: when one person's records name two accounts that
    # could not be joined (a rendering or typo the matcher does not tie), the spelling colleagues
    # share is the organisation's own, the one only this person typed is the slip.
    reach: Counter[str] = Counter(account_id for counts in votes.values() for account_id in counts)
    account_of_customer = {
        customer_id: next(iter(counts)) if len(counts) == 1 else min(counts, key=lambda a: (-counts[a], -reach[a], a))
        for customer_id, counts in votes.items()
    }
    customer_column = [customer_of[index] for index in range(count)]
    junk_column = [form[JUNK] for form in forms]
    account_of = account_of_customer.get
    account_column = [
        None if junk else account_of(customer_id)
        for customer_id, junk in zip(customer_column, junk_column, strict=True)
    ]
    assignments = Assignments(record_ids, customer_column, account_column, junk_column)
    customer_ids = set(customer_column)
    stats = Stats(
        records=count,
        junk=count - junk_column.count(()),
        customers=len(customer_ids),
        accounts=len(set(account_of_customer.values())),
        consumers=len(customer_ids - set(account_of_customer)),
        comparisons=customers.comparisons + account_clusters.comparisons,
        windowed_blocks=customers.windowed_blocks + account_clusters.windowed_blocks,
    )
    stats.merged_records = stats.records - stats.customers
    suggestions = customers.suggestions + account_clusters.suggestions
    stats.suggestions = len(suggestions)
    return Result(assignments=assignments, suggestions=suggestions, stats=stats)


def account_flat(form: FlatRecord) -> FlatRecord:
    """The fields the account matcher reads; person-only fields cleared so one organisation collapses."""
    return (
        "",
        "",
        "",
        form[LANDLINE],
        form[EMAIL],
        "",
        "empty",
        "",
        form[CORE],
        form[COMPANY_REGION],
        form[BRANCH],
        form[LEGAL_FORM],
        form[COMPANY_KEY],
        form[CREDIT_CODE],
        form[REGION],
        form[JUNK],
    )
