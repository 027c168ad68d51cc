"""Merge the mentions of one happening within a document into one event with several evidence spans.

"Ukraine accused Belarus of concentrating troops" and, two paragraphs later, "Kyiv accused Belarus of
building up equipment and troops on the border" describe one build-up: same type, same actor,
same framing, compatible dates. Anything less alike stays apart.
"""

from __future__ import annotations

from borderwatch.models import Event

_STANCE_ORDER = {"asserted": 0, "alleged": 1, "denied": 2}


def _codes(actors: list) -> frozenset[str]:
    return frozenset(a.code for a in actors)


def _dates_compatible(a: Event, b: Event) -> bool:
    if a.date.granularity in ("unknown", "ongoing") or b.date.granularity in ("unknown", "ongoing"):
        return True
    if not (a.date.start and a.date.end and b.date.start and b.date.end):
        return True
    return a.date.start <= b.date.end and b.date.start <= a.date.end


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
    if _codes(a.actors) != _codes(b.actors):
        return False
    if a.recipients and b.recipients and _codes(a.recipients) != _codes(b.recipients):
        return False
    if (a.claim.stance == "denied") != (b.claim.stance == "denied"):
        return False
    return _dates_compatible(a, b)


def _absorb(into: Event, other: Event, spans: set) -> None:
    """`spans`: the evidence `into` holds, as a set, so a long document's merge stays linear."""
    for span, anchor in zip(other.evidence, other.anchors, strict=False):
        if span not in spans:
            spans.add(span)
            into.evidence.append(span)
            into.anchors.append(anchor)
    if not into.recipients:
        into.recipients = other.recipients
    if into.date.granularity in ("unknown", "ongoing") and other.date.granularity not in (
        "unknown",
        "ongoing",
    ):
        into.date = other.date
    if into.claim.claimant is None and other.claim.claimant is not None:
        into.claim = other.claim
    elif _STANCE_ORDER[other.claim.stance] > _STANCE_ORDER[into.claim.stance]:
        into.claim.stance = other.claim.stance
    if into.place is None:
        into.place = other.place
    if into.mode is None:
        into.mode = other.mode
    # Each independent sentence makes the event more certain, never certain.
    into.confidence = 1 - (1 - into.confidence) * (1 - other.confidence * 0.5)


def _key(event: Event) -> tuple:
    """What two events must share to be one happening (`_same_happening` checks the rest); no
    `_absorb` changes it, so events are grouped by it instead of compared with every other."""
    return (event.type, event.historical, event.negated, event.hypothetical, event.future,
            _codes(event.actors), event.claim.stance == "denied")


def merge_events(events: list[Event]) -> list[Event]:
    """Fold events that describe the same happening; order of first mention is kept."""
    merged: list[Event] = []
    groups: dict[tuple, list[Event]] = {}
    spans: dict[int, set] = {}
    for event in events:
        group = groups.setdefault(_key(event), [])
        target = next((m for m in group if _same_happening(m, event)), None)
        if target is None:
            merged.append(event)
            group.append(event)
            spans[id(event)] = set(event.evidence)
        else:
            _absorb(target, event, spans[id(target)])
    return merged
