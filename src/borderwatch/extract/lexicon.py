"""Load and validate the extractor's data files: triggers, cues and actors.

Patterns are data (STYLE: "patterns are data"), so they are checked once at load time and a
malformed entry fails loudly with the file and entry named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import pycountry

from borderwatch.errors import ConfigError
from borderwatch.models import EVENT_TYPES


def _read_toml(name: str) -> dict[str, Any]:
    path = resources.files("borderwatch") / "data" / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot load lexicon: {exc}", source=f"data/{name}") from exc


def _words(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise ConfigError(f"{where} must be a list of non-empty strings", source="data/triggers.toml")
    return frozenset(w.lower() for w in value)


@dataclass(frozen=True)
class TriggerRule:
    """One lexicon entry: words that signal an event type."""

    type: str
    mode: str | None
    verbs: frozenset[str]
    nouns: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    objects: frozenset[str]
    subjects: frozenset[str]
    """Word classes one of which must name who acts (the subject, or the agent of a passive)."""
    unless: frozenset[str]
    """Word classes whose presence anywhere in the sentence turns the rule off."""
    weight: float
    order: int


@dataclass(frozen=True)
class Cues:
    reporting_verbs: frozenset[str]
    alleging_verbs: frozenset[str]
    denying_verbs: frozenset[str]
    light_verbs: frozenset[str]
    enabling_verbs: frozenset[str]
    command_verbs: frozenset[str]
    attempt_verbs: frozenset[str]
    host_verbs: frozenset[str]
    participation_verbs: frozenset[str]
    reduced_passive_verbs: frozenset[str]
    unaccusative_verbs: frozenset[str]
    sighting_verbs: frozenset[str]
    unofficial_sources: frozenset[str]
    official_speakers: frozenset[str]
    unreal_modifiers: frozenset[str]
    rehearsal_verbs: frozenset[str]
    charge_nouns: frozenset[str]
    charge_adjectives: frozenset[str]
    conduct_nouns: frozenset[str]
    charge_verbs: frozenset[str]
    charged_people: frozenset[str]
    background_phrases: frozenset[str]
    claim_nouns: frozenset[str]
    temporal_marks: frozenset[str]
    ongoing_verbs: frozenset[str]
    future_markers: frozenset[str]
    hypothetical_markers: frozenset[str]
    negation_words: frozenset[str]
    obligation_markers: frozenset[str]
    commitment_markers: frozenset[str]
    commitment_types: frozenset[str]
    intent_types: frozenset[str]
    readiness_types: frozenset[str]
    preparation_verbs: frozenset[str]
    placement_preps: frozenset[str]
    withdrawal_adverbs: frozenset[str]
    joint_adverbs: frozenset[str]
    conditional_threat_types: frozenset[str]
    proposal_nouns: frozenset[str]
    disaster_words: frozenset[str]
    accident_verbs: frozenset[str]
    facility_words: frozenset[str]
    blast_words: frozenset[str]
    armed_words: frozenset[str]
    armed_verbs: frozenset[str]


@dataclass(frozen=True)
class ActorEntry:
    """What an alias names: a state or a named group, and how it was named."""

    code: str
    kind: str  # country | capital | demonym | group
    sector: str | None = None


@dataclass(frozen=True)
class Government:
    """A group that became a state's de facto government on a date (actors.toml `governs_since`)."""

    country: str
    since: str


@dataclass(frozen=True)
class Lexicon:
    triggers: tuple[TriggerRule, ...]
    classes: dict[str, frozenset[str]]
    cues: Cues
    aliases: dict[str, ActorEntry] = field(default_factory=dict)
    """Lower-case alias → actor (country names, capitals, demonyms, group names)."""
    sectors: tuple[tuple[str, str], ...] = ()
    """(phrase, sector) pairs, longest phrase first so specific phrases win."""
    governments: dict[str, Government] = field(default_factory=dict)
    """Group code → the state it governs de facto, and since when."""


def _load_triggers() -> tuple[tuple[TriggerRule, ...], dict[str, frozenset[str]]]:
    raw = _read_toml("triggers.toml")
    classes = {name: _words(words, f"classes.{name}") for name, words in raw.get("classes", {}).items()}
    rules = []
    for order, entry in enumerate(raw.get("trigger", [])):
        where = f"trigger #{order + 1}"
        keys = {"type", "mode", "verbs", "nouns", "phrases", "objects", "subjects", "unless", "weight"}
        unknown = set(entry) - keys
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}", source="data/triggers.toml")
        if entry.get("type") not in EVENT_TYPES:
            raise ConfigError(
                f"{where}: type {entry.get('type')!r} is not a PLOVER type", source="data/triggers.toml"
            )
        objects = _words(entry.get("objects", []), f"{where}.objects")
        subjects = _words(entry.get("subjects", []), f"{where}.subjects")
        unless = _words(entry.get("unless", []), f"{where}.unless")
        named = objects | subjects | unless
        if not named <= set(classes):
            raise ConfigError(
                f"{where}: unknown word classes {sorted(named - set(classes))}", source="data/triggers.toml"
            )
        phrases = entry.get("phrases", [])
        if not all(isinstance(p, list) and len(p) >= 2 for p in phrases):
            raise ConfigError(
                f"{where}: phrases must be lists of two or more lemmas", source="data/triggers.toml"
            )
        weight = float(entry.get("weight", 0.6))
        if not 0 < weight <= 1:
            raise ConfigError(f"{where}: weight must be in (0, 1]", source="data/triggers.toml")
        rules.append(
            TriggerRule(
                type=entry["type"],
                mode=entry.get("mode"),
                verbs=_words(entry.get("verbs", []), f"{where}.verbs"),
                nouns=_words(entry.get("nouns", []), f"{where}.nouns"),
                phrases=tuple(tuple(w.lower() for w in p) for p in phrases),
                objects=objects,
                subjects=subjects,
                unless=unless,
                weight=weight,
                order=order,
            )
        )
    return tuple(rules), classes


def _load_cues() -> Cues:
    raw = _read_toml("cues.toml")
    names = Cues.__dataclass_fields__
    missing = set(names) - set(raw)
    if missing:
        raise ConfigError(f"missing cue lists {sorted(missing)}", source="data/cues.toml")
    cues = Cues(**{name: _words(raw[name], name) for name in names})
    typed = cues.commitment_types | cues.intent_types | cues.conditional_threat_types | cues.readiness_types
    bad = {t.upper() for t in typed} - set(EVENT_TYPES)
    if bad:
        raise ConfigError(f"unknown event types {sorted(bad)}", source="data/cues.toml")
    return cues


def _load_actors() -> tuple[dict[str, ActorEntry], tuple[tuple[str, str], ...]]:
    raw = _read_toml("actors.toml")
    aliases: dict[str, ActorEntry] = {}

    def add(alias: str, entry: ActorEntry) -> None:
        key = alias.lower().strip()
        # The first (most specific, hand-written) entry for an alias wins.
        if key and key not in aliases:
            aliases[key] = entry

    blocked = {name.lower() for name in raw.get("ignore", [])}
    for name in blocked:
        aliases[name] = ActorEntry("", "ignore")
    countries = raw.get("countries", {})
    for code, info in countries.items():
        for name in info.get("names", []):
            add(name, ActorEntry(code, "country"))
        for name in info.get("capitals", []):
            add(name, ActorEntry(code, "capital", "GOV"))
        for name in info.get("demonyms", []):
            add(name, ActorEntry(code, "demonym"))
    for slug, info in raw.get("groups", {}).items():
        for name in info.get("names", []):
            add(name, ActorEntry(slug, "group", info.get("sector")))
    # pycountry fills in official names the hand-written file does not list (states only:
    # its territories, such as Jersey, would fire inside other names).
    for country in pycountry.countries:
        if country.alpha_3 not in countries:
            continue
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                add(name, ActorEntry(country.alpha_3, "country"))
    sectors = sorted(
        (
            (phrase.lower(), sector)
            for sector, phrases in raw.get("sectors", {}).items()
            for phrase in phrases
        ),
        key=lambda item: -len(item[0]),
    )
    return aliases, tuple(sectors)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The packaged lexicon, validated once per process."""
    triggers, classes = _load_triggers()
    aliases, sectors = _load_actors()
    return Lexicon(triggers=triggers, classes=classes, cues=_load_cues(), aliases=aliases, sectors=sectors,
                   governments=_load_governments())


_ACTORS = "data/actors.toml"


def _load_governments() -> dict[str, Government]:
    out: dict[str, Government] = {}
    for slug, info in _read_toml("actors.toml").get("groups", {}).items():
        since = info.get("governs_since")
        if since is None:
            continue
        try:
            date.fromisoformat(since)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"groups.{slug}.governs_since must be an ISO date", source=_ACTORS) from exc
        if not info.get("country"):
            raise ConfigError(f"groups.{slug}: governs_since needs a country", source=_ACTORS)
        out[slug] = Government(info["country"], since)
    return out
