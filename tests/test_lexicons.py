"""The extractor's data files (triggers, cues, actors): every entry loads and keeps the rules the
files' own headers state, and the loader refuses malformed entries by name."""

from __future__ import annotations

import tomllib
from collections import Counter
from importlib import resources
from types import SimpleNamespace
from typing import Any

import pycountry
import pytest

from borderwatch.errors import ConfigError
from borderwatch.extract import lexicon
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.models import EVENT_TYPES

GROUP_SECTORS = {"REB", "PMC", "IGO", "NGO"}
"""Sectors a named group may have (the header of actors.toml)."""

ALPHA3_EXCEPTIONS = {"XKX"}
"""Codes in common use that ISO 3166 has not assigned: Kosovo."""


def raw(name: str) -> dict[str, Any]:
    """A packaged data file as plain TOML, read independently of the loader."""
    text = (resources.files("borderwatch") / "data" / name).read_text(encoding="utf-8")
    return tomllib.loads(text)


TRIGGERS = raw("triggers.toml")
CUES = raw("cues.toml")
ACTORS = raw("actors.toml")


def entry_id(index: int, entry: dict[str, Any]) -> str:
    return f"trigger#{index + 1}-{entry.get('type')}"


# --- triggers --------------------------------------------------------------------------------------


def test_every_trigger_entry_loads_as_written() -> None:
    rules = load_lexicon().triggers

    assert len(rules) == len(TRIGGERS["trigger"]) > 0
    for rule, entry in zip(rules, TRIGGERS["trigger"], strict=True):
        assert rule.type == entry["type"]
        assert rule.verbs == {w.lower() for w in entry.get("verbs", [])}
        assert rule.nouns == {w.lower() for w in entry.get("nouns", [])}
        assert rule.phrases == tuple(tuple(w.lower() for w in p) for p in entry.get("phrases", []))
        assert rule.verbs or rule.nouns or rule.phrases, "an entry must name some words"
        assert 0 < rule.weight <= 1


@pytest.mark.parametrize("entry", TRIGGERS["trigger"],
                         ids=[entry_id(i, e) for i, e in enumerate(TRIGGERS["trigger"])])
def test_trigger_type_is_a_plover_type(entry: dict[str, Any]) -> None:
    assert entry["type"] in EVENT_TYPES


KNOWN_DUPLICATES: dict[int, str] = {}


@pytest.mark.parametrize("index", [
    pytest.param(i, id=entry_id(i, e), marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DUPLICATES[i])]
                 if i in KNOWN_DUPLICATES else [])
    for i, e in enumerate(TRIGGERS["trigger"])
])
def test_no_word_is_listed_twice_in_one_entry(index: int) -> None:
    entry = TRIGGERS["trigger"][index]
    for key in ("verbs", "nouns", "phrases"):
        words = Counter(str(w).lower() for w in entry.get(key, []))
        assert not [w for w, n in words.items() if n > 1], f"{key} repeat words"


def test_every_object_class_exists() -> None:
    classes = set(TRIGGERS["classes"])
    keys = ("objects", "subjects", "unless")
    used = {name for entry in TRIGGERS["trigger"] for key in keys for name in entry.get(key, [])}
    assert used and used <= classes, f"unknown classes {sorted(used - classes)}"
    for name, words in TRIGGERS["classes"].items():
        assert words and all(isinstance(w, str) and w == w.strip().lower() for w in words), name
        assert len(words) == len(set(words)), f"class {name} repeats words"


def test_every_plover_type_has_a_trigger() -> None:
    assert {e["type"] for e in TRIGGERS["trigger"]} == set(EVENT_TYPES)


def test_trigger_words_are_lower_case_lemmas() -> None:
    for index, entry in enumerate(TRIGGERS["trigger"]):
        words = [*entry.get("verbs", []), *entry.get("nouns", []),
                 *(w for phrase in entry.get("phrases", []) for w in phrase)]
        bad = [w for w in words if not isinstance(w, str) or not w or w != w.strip().lower()]
        assert not bad, f"{entry_id(index, entry)}: {bad}"


# --- cues ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CUES))
def test_cue_lists_are_non_empty_lower_case_strings(name: str) -> None:
    words = CUES[name]
    assert isinstance(words, list) and words
    for word in words:
        assert isinstance(word, str) and word.strip() == word != ""
        if name.endswith("_types"):
            assert word in EVENT_TYPES, f"{name}: {word!r} is not a PLOVER type"
        else:
            assert word == word.lower(), f"{name}: {word!r} is not lower case"


def test_cue_file_holds_exactly_the_lists_the_loader_reads() -> None:
    cues = load_lexicon().cues
    assert set(CUES) == set(type(cues).__dataclass_fields__)
    for name, words in CUES.items():
        assert getattr(cues, name) == {w.lower() for w in words}


# --- actors ----------------------------------------------------------------------------------------


def test_every_country_key_is_an_iso_alpha3_code() -> None:
    countries = ACTORS["countries"]
    assert len(countries) >= 193
    unknown = [code for code in countries
               if code not in ALPHA3_EXCEPTIONS and pycountry.countries.get(alpha_3=code) is None]
    assert not unknown


def test_every_country_has_a_name_and_only_known_keys() -> None:
    for code, info in ACTORS["countries"].items():
        assert set(info) <= {"names", "demonyms", "capitals"}, code
        assert info.get("names"), f"{code} has no name"


def aliases() -> list[tuple[str, str]]:
    """(alias, code) for every alias of a country or a group, in file order."""
    found = [(name, code) for code, info in ACTORS["countries"].items()
             for key in ("names", "demonyms", "capitals") for name in info.get(key, [])]
    found += [(name, slug) for slug, info in ACTORS["groups"].items() for name in info["names"]]
    return found


def test_aliases_are_unique_case_insensitively_across_countries_and_groups() -> None:
    seen: dict[str, list[str]] = {}
    for name, code in aliases():
        seen.setdefault(name.strip().lower(), []).append(code)
    repeated = {alias: codes for alias, codes in seen.items() if len(codes) > 1}
    assert not repeated


def test_aliases_are_trimmed_non_empty_strings_and_not_ignored() -> None:
    ignored = {name.lower() for name in ACTORS["ignore"]}
    for name, code in aliases():
        assert isinstance(name, str) and name == name.strip() != "", code
        assert name.lower() not in ignored, f"{name!r} ({code}) is also in the ignore list"


def test_groups_have_known_sectors_and_base_countries() -> None:
    for slug, info in ACTORS["groups"].items():
        assert set(info) <= {"names", "sector", "country", "governs_since"}, slug
        assert info["names"], slug
        assert info["sector"] in GROUP_SECTORS, slug
        if "country" in info:
            assert info["country"] in ACTORS["countries"], slug
        # A code is a lower-case slug, or the initials an organisation is known by ("NATO").
        assert (slug == slug.lower() or slug == slug.upper()) and " " not in slug


def test_loaded_aliases_resolve_to_the_files_codes() -> None:
    loaded = load_lexicon().aliases
    for name, code in aliases():
        assert loaded[name.lower()].code == code
    groups = {slug: info["sector"] for slug, info in ACTORS["groups"].items()}
    for entry in loaded.values():
        if entry.kind == "group":
            assert entry.sector == groups[entry.code]


def test_sector_phrases_are_lower_case_and_longest_first() -> None:
    sectors = load_lexicon().sectors
    phrases = [phrase for phrase, _ in sectors]
    assert phrases and all(p == p.lower() for p in phrases)
    assert [len(p) for p in phrases] == sorted((len(p) for p in phrases), reverse=True)


# --- the validator ---------------------------------------------------------------------------------


GOOD_TRIGGERS: dict[str, Any] = {
    "classes": {"troops": ["troop", "tank"]},
    "trigger": [{"type": "MOBILIZE", "verbs": ["mass"], "objects": ["troops"], "weight": 0.7}],
}


def serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, Any]) -> None:
    """Make the loader read `files` (name → parsed TOML) instead of the packaged data."""
    monkeypatch.setattr(lexicon, "_read_toml", lambda name: files[name])


def test_the_validator_accepts_a_good_minimal_file(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"triggers.toml": GOOD_TRIGGERS})
    (rule,), classes = lexicon._load_triggers()
    assert (rule.type, rule.verbs, rule.objects, rule.weight) == ("MOBILIZE", {"mass"}, {"troops"}, 0.7)
    assert classes == {"troops": {"troop", "tank"}}


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "INVADE"}, "type 'INVADE' is not a PLOVER type"),
    ({"type": None}, "not a PLOVER type"),
    ({"verb": ["mass"]}, "unknown keys ['verb']"),
    ({"objects": ["weapons"]}, "unknown word classes ['weapons']"),
    ({"unless": ["weapons"]}, "unknown word classes ['weapons']"),
    ({"subjects": ["weapons"]}, "unknown word classes ['weapons']"),
    ({"phrases": [["build"]]}, "phrases must be lists of two or more lemmas"),
    ({"phrases": ["build up"]}, "phrases must be lists of two or more lemmas"),
    ({"weight": 0}, "weight must be in (0, 1]"),
    ({"weight": 1.5}, "weight must be in (0, 1]"),
    ({"verbs": "mass"}, "verbs must be a list of non-empty strings"),
    ({"nouns": ["buildup", ""]}, "nouns must be a list of non-empty strings"),
    ({"nouns": [3]}, "nouns must be a list of non-empty strings"),
], ids=["unknown-type", "no-type", "unknown-key", "unknown-class", "unknown-unless-class",
        "unknown-subjects-class", "one-word-phrase",
        "phrase-not-a-list", "zero-weight", "weight-above-1", "verbs-not-a-list", "empty-noun",
        "noun-not-a-string"])
def test_a_malformed_trigger_is_a_config_error_naming_the_entry(
        monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], message: str) -> None:
    second = {**GOOD_TRIGGERS["trigger"][0], **change}
    serve(monkeypatch, {"triggers.toml": {**GOOD_TRIGGERS,
                                          "trigger": [GOOD_TRIGGERS["trigger"][0], second]}})

    with pytest.raises(ConfigError) as caught:
        lexicon._load_triggers()

    assert message in caught.value.message
    assert "trigger #2" in caught.value.message
    assert caught.value.source == "data/triggers.toml"


def test_a_malformed_word_class_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"triggers.toml": {**GOOD_TRIGGERS, "classes": {"troops": "troop"}}})
    with pytest.raises(ConfigError, match=r"classes\.troops must be a list"):
        lexicon._load_triggers()


def test_missing_cue_lists_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {name: words for name, words in CUES.items() if name != "negation_words"}
    serve(monkeypatch, {"cues.toml": partial})
    with pytest.raises(ConfigError, match="negation_words") as caught:
        lexicon._load_cues()
    assert caught.value.source == "data/cues.toml"


def test_unknown_event_type_in_cues_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"cues.toml": {**CUES, "intent_types": ["FIGHT", "INVADE"]}})
    with pytest.raises(ConfigError, match="INVADE"):
        lexicon._load_cues()


def test_unparseable_toml_is_a_config_error_naming_the_file(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Any) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "triggers.toml").write_text("[[trigger]\ntype = 'FIGHT'\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "resources", SimpleNamespace(files=lambda _package: tmp_path))

    with pytest.raises(ConfigError, match="cannot load lexicon") as caught:
        lexicon._read_toml("triggers.toml")

    assert caught.value.source == "data/triggers.toml"


def test_organisations_name_known_states_or_groups_and_each_name_once() -> None:
    from borderwatch.extract.coref import load_organisations

    table = load_organisations()
    assert table
    known = set(ACTORS["countries"]) | set(ACTORS["groups"])
    for name, org in table.items():
        assert org.codes and set(org.codes) <= known, name
        assert org.sector in GROUP_SECTORS | {"MIL", "INTEL", "GOV", "MFA", None}, name
