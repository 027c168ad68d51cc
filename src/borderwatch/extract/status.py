"""Status of an event: current news, background, forecast, condition or denial, and the words
that decided it.

A reader asks of every reported act whether it is happening now. The answer comes from the
trigger's clause: modals and plans ("will", "is going to" → future; "could", "if" →
hypothetical), negation ("never", "no intention of"), the date it carries (a past year, "last
year" → historical; a later date → future), phrases that say it has long been so ("over the past
years"), and the clause it sits in ("before they launched their invasion" dates another act). Each
decision keeps the words behind it (`Status.cues`), so an analyst can see why an event was set
aside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from spacy.tokens import Token

from borderwatch.extract.lexicon import Cues
from borderwatch.models import EventDate

HISTORICAL_AFTER = timedelta(days=30)
"""An event that ended this long before publication is background, not news."""
LONG_STANDING = timedelta(days=365)
"""A situation that has lasted "since" longer than this is the background of the news."""

_MODAL_FUTURE = {"will", "shall", "'ll", "wo"}
_MODAL_HYPOTHETICAL = {"could", "might", "may", "would", "should", "'d", "can"}
_CONDITIONS = ("if", "unless", "whether")
_PLANNING = ("go", "plan", "intend", "prepare", "schedule", "aim")


@dataclass
class Status:
    """The flags of one event and the words that set them."""

    historical: bool = False
    future: bool = False
    hypothetical: bool = False
    negated: bool = False
    ongoing: bool = False
    cues: list[str] = field(default_factory=list)

    def mark(self, flag: str, word: str) -> None:
        setattr(self, flag, True)
        cue = f"{flag}: {word}"
        if cue not in self.cues:
            self.cues.append(cue)


class StatusReader:
    """Reads the status of a trigger's clause from the cue lists (data/cues.toml)."""

    def __init__(self, cues: Cues) -> None:
        self.cues = cues

    def read(self, trigger: Token, head: Token, attempt_happens: bool = False) -> Status:
        """Future, hypothetical, negated and ongoing from the words around the trigger's clause.

        `attempt_happens`: for acts of force an attempt is itself the act ("tried to capture the
        town" is fighting); for the others it is not yet done ("struggle to reach a ceasefire")."""
        status = Status()
        chain = [trigger, head]
        # Auxiliaries and negation of the verbs that govern an infinitive ("is not going to take").
        current = head
        while current.dep_ in ("xcomp", "conj", "aux") and current.head.i != current.i:
            current = current.head
            chain.append(current)
        # What forces practise, rehearse or simulate is a drill, not the act: "its forces
        # practised blockading key ports", "troops simulated an assault on the coast".
        rehearsal = next((verb.head for verb in (trigger, *chain)
                          if verb.dep_ in ("xcomp", "dobj", "ccomp") and verb.head.i != verb.i
                          and verb.head.lemma_.lower() in self.cues.rehearsal_verbs), None)
        if rehearsal is not None:
            status.mark("hypothetical", rehearsal.text)
        # A nominal trigger that no one saw: "no violations were recorded", "has not recorded any
        # violation of its airspace".
        determiners = {c.lower_ for c in trigger.children if c.dep_ == "det"}
        if trigger.pos_ == "NOUN" and "no" in determiners:
            status.mark("negated", f"no {trigger.text}")
        governor = trigger.head
        if (trigger.pos_ == "NOUN" and "any" in determiners and trigger.dep_ in ("dobj", "nsubjpass")
                and any(c.dep_ == "neg" for c in governor.children)):
            status.mark("negated", f"{governor.text} any {trigger.text}")
        if trigger.pos_ == "NOUN":
            unreal = [c for c in trigger.children
                      if c.dep_ in ("amod", "compound") and c.lemma_.lower() in self.cues.unreal_modifiers]
            if unreal:
                status.mark("hypothetical", f"{unreal[0].text} {trigger.text}")  # "simulated strikes"
            if trigger.dep_ == "dobj" and governor is not head:
                # What "the drills would include" is planned like the drills.
                for aux in (c for c in governor.children if c.dep_ == "aux"):
                    if aux.lower_ in _MODAL_FUTURE:
                        status.mark("future", aux.text)
                    elif aux.lower_ in _MODAL_HYPOTHETICAL:
                        status.mark("hypothetical", aux.text)
        # A negated noun that governs the trigger negates it too ("no intention of attacking").
        current = trigger
        for _ in range(3):
            if current.head.i == current.i or current.dep_ not in ("pcomp", "pobj", "prep", "acl", "ccomp"):
                break
            current = current.head
            if current.pos_ == "NOUN" and current.lemma_.lower() in self.cues.proposal_nouns:
                status.mark("hypothetical", current.text)  # "its demand that Israel ease ..."
            if current.pos_ == "ADP" and current.lower_ in self.cues.negation_words:
                status.mark("negated", current.text)  # "without warning anybody"
            if current.pos_ != "NOUN":
                continue
            for child in current.children:
                if child.dep_ in ("det", "neg") and child.lower_ in self.cues.negation_words:
                    status.mark("negated", f"{child.text} {current.text}")
            if current.lemma_.lower() in self.cues.hypothetical_markers:
                status.mark("hypothetical", current.text)  # "the risk of new fighting"
        for verb in chain:
            for child in verb.children:
                word = child.lower_
                if child.dep_ == "neg" or (
                    word in self.cues.negation_words and child.dep_ in ("advmod", "det", "neg", "preconj")
                ):
                    status.mark("negated", child.text)
                if child.dep_ in ("aux", "auxpass"):
                    if word in _MODAL_FUTURE:
                        status.mark("future", child.text)
                    elif word in _MODAL_HYPOTHETICAL:
                        status.mark("hypothetical", child.text)
                if child.dep_ == "mark" and word in _CONDITIONS:
                    status.mark("hypothetical", child.text)
            lemma = verb.lemma_.lower()
            if verb is not trigger and lemma in _PLANNING and any(c.dep_ == "xcomp" for c in verb.children):
                status.mark("future", verb.text)
            if not attempt_happens and verb is not trigger and lemma in self.cues.attempt_verbs and any(
                c.dep_ == "xcomp" for c in verb.children
            ):
                status.mark("hypothetical", verb.text)  # tried or wanted, not done
            if lemma in self.cues.ongoing_verbs and verb is not trigger:
                status.ongoing = True
            if verb.tag_ in ("VBZ", "VBP") or (
                verb.tag_ == "VBG" and any(c.dep_ == "aux" and c.lemma_ == "be" for c in verb.children)
            ):
                status.ongoing = True
        return status

    def date(self, status: Status, when: EventDate | None, published: date | None, text: str) -> None:
        """Background or forecast by the event's own date, measured from the publication date."""
        if when is None or published is None or not when.end:
            return
        if date.fromisoformat(when.end) < published - HISTORICAL_AFTER and when.granularity != "ongoing":
            status.mark("historical", text)
        elif text.lower().startswith("since") and when.start and (
            date.fromisoformat(when.start) < published - LONG_STANDING
        ):
            # "have clashed repeatedly along the border since the 1990s": the background.
            status.mark("historical", text)
        if date.fromisoformat(when.start or when.end) > published:
            status.mark("future", text)

    def background(self, head: Token) -> str | None:
        """The phrase that says the clause has long been so ("clashes over the past years")."""
        # Not what a relative clause says of a noun ("the chant that rang a decade ago").
        aside = {t.i for d in head.subtree if d.dep_ in ("relcl", "acl") and d is not head for t in d.subtree}
        clause = " " + " ".join(t.lower_ for t in head.subtree if t.i not in aside) + " "
        return next((p for p in sorted(self.cues.background_phrases) if f" {p} " in clause), None)

    def temporal(self, token: Token) -> str | None:
        """The word that makes a clause or phrase date the one above it by a happening: "before
        they launched their invasion", "hosted after their leader's failed rebellion"."""
        if token.dep_ == "prep":
            return token.lower_ if token.lower_ in self.cues.temporal_marks else None
        if token.dep_ != "advcl" or token.pos_ not in ("VERB", "AUX"):
            return None
        return next(
            (c.lower_ for c in token.children
             if c.dep_ in ("mark", "advmod") and c.lower_ in self.cues.temporal_marks),
            None,
        )

    def enabled(self, verb: Token, link: Token) -> bool:
        """Whether what hangs from `link` is the complement of a permission that was given
        ("allowed Russian troops to use its territory for their invasion"): it took place."""
        if verb.lemma_.lower() not in self.cues.enabling_verbs or verb.tag_ not in ("VBD", "VBN"):
            return False  # "to allow aid to reach ...", "must allow ...": a purpose, not a fact
        if any(c.dep_ in ("aux", "auxpass") and c.tag_ in ("MD", "TO") for c in verb.children):
            return False
        return link.dep_ in ("xcomp", "ccomp", "dobj", "oprd")
