"""Merge the mentions of one happening within a document into one event with several evidence spans.

"Ukraine accused Belarus of concentrating troops" and, two paragraphs later, "Kyiv accused Belarus of
building up equipment and troops on the border" describe one build-up: same type, same actor,
same framing, compatible dates. A mention that names no actor (a headline's "Shelling hits border
villages", a quote's "the strikes") joins the mention of the same kind that does; two mentions
naming different actors, or dated on different days, stay apart, and so do two incidents told
by clauses with verbs of their own ("hit targets in Ras al-Ayn", "struck areas along the border").
"""

from __future__ import annotations

from datetime import date, timedelta

from spacy.tokens import Doc, Token

from borderwatch.evaluate import haversine_km
from borderwatch.extract.headlines import HeadlineDetector
from borderwatch.models import Event, Place

_SLACK = timedelta(days=1)
_NEAR_KM = 25.0

_STANCE_ORDER = {"asserted": 0, "alleged": 1, "denied": 2}


def _codes(actors: list) -> frozenset[str]:
    return frozenset(a.code for a in actors)


def _dates_compatible(a: Event, b: Event) -> bool:
    """Ongoing situations meet any date; an undated mention is the publication day's news, so it
    is not the clash a report dates to days before ("similar clashes earlier in the week")."""
    if "ongoing" in (a.date.granularity, b.date.granularity):
        return True
    if not (a.date.start and a.date.end and b.date.start and b.date.end):
        return True
    if "unknown" in (a.date.granularity, b.date.granularity):
        dated, undated = (b, a) if a.date.granularity == "unknown" else (a, b)
        if dated.date.granularity == "unknown":
            return True
        day = date.fromisoformat(undated.date.start)
        return (date.fromisoformat(dated.date.start) - _SLACK <= day
                <= date.fromisoformat(dated.date.end) + _SLACK)
    return a.date.start <= b.date.end and b.date.start <= a.date.end


_MUTUAL = frozenset({"FIGHT"})
"""Types where one side's act is the other's too: the recipient of an actorless "clashes with X"
may be the actor of the named mention."""


def _recipients_compatible(a: Event, b: Event) -> bool:
    if not (a.recipients and b.recipients):
        return True
    if a.actors and b.actors:
        return _codes(a.recipients) == _codes(b.recipients)
    # One side names no actor: its recipients must be among the other's participants.
    named, bare = (a, b) if a.actors else (b, a)
    participants = _codes(named.recipients) | (_codes(named.actors) if a.type in _MUTUAL else frozenset())
    return _codes(bare.recipients) <= participants


_INCIDENTS = frozenset({"FIGHT", "ASSAULT", "COERCE", "ACCUSE"})
"""Types told as incidents, each act its own (a strike, a condemnation, a summons); a build-up or a
threat is a situation that several verbs retell ("concentrating troops", "building up troops")."""

_ANOTHER = frozenset({"again", "another", "second", "third", "fresh", "renewed", "further"})
"""Words that tell a new happening of a kind already told ("the second air raid", "fired again")."""


_CASUALTIES = frozenset({"kill", "wound", "injure", "die", "dead", "death", "casualty"})
"""Words of a killing that a fight in the same sentence may have done."""


def _token(doc: Doc, event: Event) -> Token | None:
    """The word that triggered a mention."""
    if not event.anchors:
        return None
    span = doc.char_span(event.anchors[0], event.anchors[0] + 1, alignment_mode="expand")
    return span[0] if span is not None else None


def _act(doc: Doc, event: Event, verbs: frozenset[str]) -> tuple[str, bool] | None:
    """The verb that tells a mention's act, with whether the clause marks it as another one; None
    for a retelling: a noun ("the attack", "the clashes"), a headline, an anchor off the parse, or
    a verb that is no trigger of the mention's type (the accusation read off "X said Y fired")."""
    token = _token(doc, event)
    if token is None:
        return None
    if token.pos_ != "VERB" or token.lemma_.lower() not in verbs or HeadlineDetector.is_headline(token.sent):
        return None
    marks = {c.lower_ for c in token.subtree if c.dep_ in ("advmod", "amod", "det", "npadvmod")}
    return token.lemma_.lower(), bool(marks & _ANOTHER)


def _distinct_acts(acts: dict[int, set[tuple[str, bool]]], a: Event, b: Event) -> bool:
    """Two clauses that each name their actor and tell the act with a verb of their own are two
    acts ("hit targets in Ras al-Ayn", "struck areas along the border"), as is a clause that
    calls its act another one; the same verb again, or a noun, retells the act."""
    if a.type not in _INCIDENTS or not (a.actors and b.actors):
        return False
    told, new = acts.get(id(a), set()), acts.get(id(b), set())
    if not (told and new):
        return False
    if any(again for _, again in new):
        return True
    return not ({lemma for lemma, _ in told} & {lemma for lemma, _ in new})


def _same_happening(a: Event, b: Event) -> bool:
    if a.type != b.type:
        return False
    if (a.historical, a.negated, a.hypothetical, a.future) != (
        b.historical,
        b.negated,
        b.hypothetical,
        b.future,
    ):
        return False
    if a.actors and b.actors and _codes(a.actors) != _codes(b.actors):
        return False
    if not _recipients_compatible(a, b):
        return False
    if (a.claim.stance == "denied") != (b.claim.stance == "denied"):
        return False
    return _dates_compatible(a, b) and _places_compatible(a.place, b.place)


def _places_compatible(a: Place | None, b: Place | None) -> bool:
    """Unplaced mentions meet any place; a country holds its towns and a region its own; two
    places further apart than either's radius (and 25 km) are two acts ("an air raid on Bentiu",
    "an offensive to recapture Heglig")."""
    if a is None or b is None or a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return True
    if a.country and b.country and a.country != b.country:
        return False
    if 1 in (a.precision, b.precision):
        return True
    if a.admin1 and a.admin1 == b.admin1 and 2 in (a.precision, b.precision):
        return True
    reach = max(a.radius_km or 0.0, b.radius_km or 0.0, _NEAR_KM)
    return haversine_km(a.lat, a.lon, b.lat, b.lon) <= reach


def _finer(a: Place, b: Place) -> bool:
    return (a.precision or 0) > (b.precision or 0)


def _absorb(into: Event, other: Event, spans: set) -> None:
    """`spans`: the evidence `into` holds, as a set, so a long document's merge stays linear."""
    for span, anchor in zip(other.evidence, other.anchors, strict=False):
        if span not in spans:
            spans.add(span)
            into.evidence.append(span)
            into.anchors.append(anchor)
    if not into.actors:
        into.actors = other.actors
    if not into.recipients:
        into.recipients = other.recipients
    # Whoever acts is not also the target ("clash with X" told by X's side).
    into.recipients = [r for r in into.recipients if r.code not in _codes(into.actors)]
    if into.date.granularity in ("unknown", "ongoing") and other.date.granularity not in (
        "unknown",
        "ongoing",
    ):
        into.date = other.date
    if into.claim.claimant is None and other.claim.claimant is not None:
        into.claim = other.claim
    elif _STANCE_ORDER[other.claim.stance] > _STANCE_ORDER[into.claim.stance]:
        into.claim.stance = other.claim.stance
    if into.place is None or (other.place is not None and _finer(other.place, into.place)):
        into.place = other.place
    if into.mode is None:
        into.mode = other.mode
    # Each independent sentence makes the event more certain, never certain.
    into.confidence = 1 - (1 - into.confidence) * (1 - other.confidence * 0.5)


def _consequence(fight: Event, killing: Event, shared: set) -> bool:
    """An actorless killing told in the same sentence as a fight ("shelling ..., and as a result
    a civilian was killed") is what the fight did, not a second happening."""
    return not killing.actors and bool(shared & set(killing.evidence))


def _key(event: Event) -> tuple:
    """What two mentions must share to be one happening (`_same_happening` checks the rest); no
    `_absorb` changes it, so events are grouped by it instead of compared with every other."""
    return (event.type, event.historical, event.negated, event.hypothetical, event.future,
            event.claim.stance == "denied")


def merge_events(
    events: list[Event], doc: Doc | None = None, verbs: dict[str, frozenset[str]] | None = None
) -> list[Event]:
    """Fold events that describe the same happening; order of first mention is kept. With the
    parsed `doc` and the trigger verbs of each type, clauses telling distinct acts with verbs of
    their own stay apart."""
    verbs = verbs or {}
    merged: list[Event] = []
    groups: dict[tuple, list[Event]] = {}
    spans: dict[int, set] = {}
    acts: dict[int, set[tuple[str, bool]]] = {}
    if doc is not None:
        for event in events:
            act = _act(doc, event, verbs.get(event.type, frozenset()))
            acts[id(event)] = {act} if act else set()
    for event in events:
        key = _key(event)
        group = groups.setdefault(key, [])
        target = next((m for m in group if _same_happening(m, event) and not _distinct_acts(acts, m, event)),
                      None)
        if target is None and event.type == "ASSAULT":
            fights = groups.get(("FIGHT", *key[1:]), [])
            target = next((m for m in fights if _consequence(m, event, spans[id(m)])), None)
        if target is None:
            merged.append(event)
            group.append(event)
            spans[id(event)] = set(event.evidence)
        else:
            _absorb(target, event, spans[id(target)])
            acts.setdefault(id(target), set()).update(acts.get(id(event), set()))
    # A killing told before the fight it was part of ("55 people were injured and two were killed
    # in the fighting"): fold it once every fight holds all of its sentences.
    folded: set[int] = set()
    for event in merged:
        word = _token(doc, event) if doc is not None and event.type == "ASSAULT" else None
        if word is None or word.lemma_.lower() not in _CASUALTIES:
            continue  # a bombing told first is its own act ("suicide bombers blew themselves up")
        fights = groups.get(("FIGHT", *_key(event)[1:]), [])
        target = next((m for m in fights if _consequence(m, event, spans[id(m)])), None)
        if target is not None:
            _absorb(target, event, spans[id(target)])
            folded.add(id(event))
    return [e for e in merged if id(e) not in folded]
