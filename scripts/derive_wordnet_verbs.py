"""Derive data/wordnet_verbs.tsv: verbs the trigger lexicon lacks, typed through WordNet.

Why: the lexicon lists the words seen so far; the rest of a type's vocabulary is a long tail
("reprimand", "impound", "exhort"). WordNet groups verbs into synsets linked by hypernymy, so a
verb whose synset is, or falls under, the main sense of an unconstrained lexicon verb of one type
inherits that type: the synonyms of the seed's first two senses and the troponyms (hyponyms)
below them, two levels deep. A word reached from seeds of different types is dropped as ambiguous,
and so is a word the lexicon already has (its entry, with its object and subject constraints,
stays the authority). The classifier reads the result as features (extract/classify.py).

Source: Princeton WordNet 3.0 as the Debian package `wordnet-base` installs it
(/usr/share/wordnet; WordNet 3.0 licence, free use with the copyright notice kept). Needed only
to re-derive the file: ``apt-get install wordnet-base`` then
``PYTHONPATH=src .venv/bin/python scripts/derive_wordnet_verbs.py [--dict /usr/share/wordnet]``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from borderwatch.extract.classify import WORDNET_FILE
from borderwatch.extract.lexicon import load_lexicon

OUT = Path(__file__).resolve().parents[1] / "src" / "borderwatch" / "data" / WORDNET_FILE
SENSES = 2
"""How many of a seed verb's most frequent senses are followed."""
DEPTH = 2
"""How many levels of troponyms below a seed sense are taken."""


def read_synsets(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """data.verb → (offset → member words, offset → hyponym offsets)."""
    words: dict[str, list[str]] = {}
    hyponyms: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue  # the licence header
        fields = line.split(" | ")[0].split()
        offset, count = fields[0], int(fields[3], 16)
        members = [fields[4 + 2 * i].lower() for i in range(count)]
        rest = fields[4 + 2 * count :]
        pointers = int(rest[0])
        children = [rest[1 + 4 * i + 1] for i in range(pointers) if rest[1 + 4 * i] == "~"]
        words[offset] = [m.split("(")[0] for m in members]
        hyponyms[offset] = children
    return words, hyponyms


def read_senses(path: Path) -> dict[str, list[str]]:
    """index.verb → lemma → its synset offsets, most frequent sense first."""
    senses: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, synset_count, pointer_count = fields[0], int(fields[2]), int(fields[3])
        senses[lemma] = fields[4 + pointer_count + 2 :][:synset_count]
    return senses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dict", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    words, hyponyms = read_synsets(args.dict / "data.verb")
    senses = read_senses(args.dict / "index.verb")
    lexicon = load_lexicon()
    known = {w for rule in lexicon.triggers for w in rule.verbs | rule.nouns}
    reached: dict[str, set[str]] = defaultdict(set)
    via: dict[str, set[str]] = defaultdict(set)
    """word → the reached synsets it is a member of"""
    seeds: dict[str, set[str]] = defaultdict(set)
    for rule in lexicon.triggers:
        if rule.objects or rule.subjects or rule.unless:
            continue  # a constrained word's type depends on its context, not on the word
        for verb in rule.verbs:
            frontier = [(offset, 0) for offset in senses.get(verb.replace(" ", "_"), [])[:SENSES]]
            while frontier:
                offset, depth = frontier.pop()
                for word in words[offset]:
                    reached[word].add(rule.type)
                    via[word].add(offset)
                    seeds[word].add(verb)
                if depth < DEPTH:
                    frontier.extend((child, depth + 1) for child in hyponyms[offset])
    rows = sorted(
        (word.replace("_", " "), next(iter(types)), ",".join(sorted(seeds[word])))
        for word, types in reached.items()
        if len(types) == 1 and word.replace("_", " ") not in known and senses.get(word, [""])[0] in via[word]
    )
    header = (
        "# Verbs typed through WordNet 3.0 (Princeton; Debian package wordnet-base), derived by\n"
        "# scripts/derive_wordnet_verbs.py from the unconstrained verbs of data/triggers.toml: a synonym\n"
        f"# or troponym (down to {DEPTH} levels) of a seed's first {SENSES} senses takes the seed's type;\n"
        "# words reached from seeds of two types, words whose first sense was not reached, and words\n"
        "# the lexicon has are left out.\n"
        "# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.\n"
        "# Format: verb<TAB>TYPE<TAB>seed verbs\n"
    )
    OUT.write_text(header + "".join(f"{w}\t{t}\t{s}\n" for w, t, s in rows), encoding="utf-8")
    print(f"wrote {len(rows)} verbs to {OUT}")


if __name__ == "__main__":
    main()
