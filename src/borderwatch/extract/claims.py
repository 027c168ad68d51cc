"""Claims as events: a party that reports the other side's hostile act accuses it.

"Kyrgyzstan's border service reported that Tajik forces had begun to fire again" carries two
things an analyst records: the firing (alleged by Kyrgyzstan) and Kyrgyzstan's accusation of
Tajikistan (PLOVER ACCUSE; CAMEO 112 "accuse of aggression"). Only a party speaks that way: the
claimant is the act's target, or, where the text names no target, one of the two states the
article is about. A third party's report ("Thai military sources said Vietnamese forces shelled
guerrilla camps") accuses no one.
"""

from __future__ import annotations

from dataclasses import replace

from borderwatch.extract.coref import DocumentActors
from borderwatch.models import Actor, Claim, Event

HOSTILE = frozenset({"FIGHT", "ASSAULT", "MOBILIZE", "COERCE", "THREATEN"})
"""Acts that a party reporting them against itself accuses the actor of."""
_PARTIES = 2


def accusations(events: list[Event], article: DocumentActors | None) -> list[Event]:
    """One ACCUSE for each current hostile act a party alleges against itself."""
    parties = set(article.parties(_PARTIES)) if article is not None else set()
    derived: list[Event] = []
    for event in events:
        claimant = event.claim.claimant
        if (
            event.type not in HOSTILE
            or event.claim.stance != "alleged"
            or not event.is_current
            or event.future
            or claimant is None
            or not event.actors
        ):
            continue
        accused = event.actors[0]
        targets = {r.code for r in event.recipients}
        is_party = claimant.code in targets if targets else claimant.code in parties
        if not is_party or claimant.code == accused.code:
            continue
        if _stated(events, event, claimant.code, accused.code):
            continue
        derived.append(
            replace(
                event,
                type="ACCUSE",
                mode=None,
                actors=[claimant],
                recipients=[accused],
                claim=Claim(claimant=claimant, stance="asserted", outlet_voice=False),
                evidence=list(event.evidence),
                anchors=list(event.anchors),
                place=None,
                proximity=None,
            )
        )
    return derived


def _stated(events: list[Event], act: Event, accuser: str, accused: str) -> bool:
    """Whether the text already says so in the act's sentence ("Kyiv accused Minsk of massing")."""
    return any(
        e.type == "ACCUSE"
        and accuser in {a.code for a in e.actors}
        and accused in {r.code for r in e.recipients}
        and set(e.evidence) & set(act.evidence)
        for e in events
    )


def apply_denials(events: list[Event], denials: list[Actor]) -> None:
    """Mark as denied each act alleged against a party that denied the allegation."""
    deniers = {actor.code for actor in denials}
    for event in events:
        if event.claim.stance == "alleged" and event.actors and event.actors[0].code in deniers:
            event.claim.stance = "denied"
