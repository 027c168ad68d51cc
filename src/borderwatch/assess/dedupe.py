"""Near-duplicate documents: wire copies, syndicated reprints and light rewrites count once.

Each document's clean text is cut into word 5-shingles and summarised by a 128-permutation MinHash
(datasketch). A MinHashLSH index proposes the stored documents whose estimated Jaccard similarity
may reach `threshold`; those whose estimate does reach it are near-duplicates. A new document joins
the near-duplicate groups it touches, and every member of the merged group gets the same
`copy_of`: the earliest-published document of the group (itself when it has no near-duplicate).

Why these numbers: 5-word shingles are long enough that two different reports of the same event
("troops near Mazyr on Saturday") share few of them, yet a wire copy with a new dateline, byline or
a few edited words keeps most of them — changing k words of an n-word text removes at most 5k of
its n - 4 shingles, so a 150-word story with a new two-line dateline still scores well above 0.7,
while independent rewrites of the same facts score below 0.2. 128 permutations estimate the
Jaccard within about ±0.04 (one standard deviation at 0.7), which the margin between those two
populations absorbs. The LSH index is built for 0.5 (datasketch picks 25 bands of 5 rows), which
proposes a pair of true similarity 0.7 with probability 0.99 and 0.8 with 0.9999 — built for 0.7
itself it would miss one copy in five at 0.7 — while proposing under 1% of pairs at 0.2; the 0.7
test on the estimated similarity then decides.

Signatures are stored (table ``minhashes``), so later documents are compared with all earlier
ones without re-reading their text; each open store keeps one LSH index in memory, filled from
the table once and topped up when another process has added signatures.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

from datasketch import LeanMinHash, MinHash, MinHashLSH
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from borderwatch.errors import StoreError
from borderwatch.store import Store
from borderwatch.store.schema import DocumentRow, MinHashRow

NUM_PERM = 128
SHINGLE_WORDS = 5
THRESHOLD = 0.7
"""Estimated Jaccard similarity of shingle sets at or above which two documents are copies."""
CANDIDATE_THRESHOLD = 0.5
"""Where the LSH bands are tuned: well below THRESHOLD, so copies near it are still proposed."""
SEED = 1

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The word `size`-grams of a text, lower-cased; a shorter text is one shingle of all its words."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def signature(text: str) -> LeanMinHash:
    """The MinHash signature of a text's shingles (a fixed seed, so stored ones stay comparable)."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update_batch(sorted(shingles(text)))
    return LeanMinHash(minhash)


def similarity(text_a: str, text_b: str) -> float:
    """Estimated Jaccard similarity of two texts' shingle sets, as the index sees it."""
    return float(signature(text_a).jaccard(signature(text_b)))


def _to_bytes(minhash: LeanMinHash) -> bytes:
    buffer = bytearray(minhash.bytesize())
    minhash.serialize(buffer)
    return bytes(buffer)


def _from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash.deserialize(data)


def report_time(published: str | None, fetched_at: str | None = None) -> datetime | None:
    """When a document was first out: its publication time, else its fetch time (UTC).

    A bare date counts as its midnight UTC and a time without a zone as UTC, so every stamp
    compares with every other; an unparseable stamp counts as unknown.
    """
    for stamp in (published, fetched_at):
        if not stamp:
            continue
        try:
            moment = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.combine(date.fromisoformat(stamp.strip()[:10]), datetime.min.time())
            except ValueError:
                continue
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


_LATE = datetime.max.replace(tzinfo=UTC)


def _earliest_key(row: DocumentRow) -> tuple[datetime, str]:
    """Order of originality: earliest report first; unknown times last; ties by id."""
    return (report_time(row.published, row.fetched_at) or _LATE, row.id)


@dataclass(frozen=True)
class Duplicates:
    """What `mark_near_duplicates` found for one document."""

    doc_id: str
    copy_of: str
    """The original of its near-duplicate group (`doc_id` itself when it has none)."""
    near: tuple[str, ...]
    """Stored documents whose estimated similarity reached the threshold."""
    regrouped: tuple[str, ...]
    """Earlier documents whose `copy_of` changed (a new original arrived, or groups merged)."""


class DuplicateIndex:
    """The in-memory LSH over a store's stored signatures."""

    def __init__(self, threshold: float = CANDIDATE_THRESHOLD) -> None:
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.signatures: dict[str, LeanMinHash] = {}

    def add(self, doc_id: str, minhash: LeanMinHash) -> None:
        if doc_id not in self.signatures:
            self.lsh.insert(doc_id, minhash)
            self.signatures[doc_id] = minhash

    def near(self, minhash: LeanMinHash, threshold: float) -> list[str]:
        """Indexed documents whose estimated Jaccard with `minhash` is at least `threshold`."""
        return sorted(key for key in self.lsh.query(minhash)
                      if self.signatures[key].jaccard(minhash) >= threshold)


_INDEXES: weakref.WeakKeyDictionary[Store, DuplicateIndex] = weakref.WeakKeyDictionary()


def _index(store: Store, session: Session) -> DuplicateIndex:
    """The store's index, topped up with signatures stored since it was last read."""
    index = _INDEXES.get(store)
    if index is None:
        index = _INDEXES[store] = DuplicateIndex()
    stored = session.scalar(select(func.count()).select_from(MinHashRow)) or 0
    if stored != len(index.signatures):
        for doc_id, data in session.execute(select(MinHashRow.doc_id, MinHashRow.signature)):
            if doc_id not in index.signatures:
                index.add(doc_id, _from_bytes(data))
    return index


def mark_near_duplicates(store: Store, doc_id: str, *, threshold: float = THRESHOLD) -> Duplicates:
    """Sign a stored document and give it (and its near-duplicate group) a `copy_of`.

    Idempotent: a document already signed is left as it is and its current group reported.
    """
    with store.transaction(f"cannot compare document {doc_id} for near-duplicates") as session:
        known = session.get(MinHashRow, doc_id)
        if known is not None:
            return Duplicates(doc_id, known.copy_of, (), ())
        doc = session.get(DocumentRow, doc_id)
        if doc is None:
            raise StoreError(f"no stored document {doc_id}", source=store.url)
        minhash = signature(doc.clean_text)
        index = _index(store, session)
        near = index.near(minhash, threshold)
        # The new document bridges every group one of its near-duplicates belongs to.
        roots = set(session.scalars(select(MinHashRow.copy_of).where(MinHashRow.doc_id.in_(near))))
        group = list(session.scalars(
            select(MinHashRow).where(MinHashRow.copy_of.in_(roots) | MinHashRow.doc_id.in_(near))
        ))
        candidates = {row.doc_id for row in group} | {doc_id}
        original = min(
            session.scalars(select(DocumentRow).where(DocumentRow.id.in_(candidates))),
            key=_earliest_key,
        ).id
        regrouped = []
        for row in group:
            if row.copy_of != original:
                row.copy_of = original
                regrouped.append(row.doc_id)
        session.add(MinHashRow(doc_id=doc_id, signature=_to_bytes(minhash), copy_of=original))
    index.add(doc_id, minhash)  # only once the signature is committed
    return Duplicates(doc_id, original, tuple(near), tuple(sorted(regrouped)))
