"""Generate the hostile regression corpus: inputs built to crash, stall or bloat the pipeline.

Every case is made here from a seed (no page is copied from anywhere), in the kinds issue 12
names: deep JSON, lone surrogates, text over the parser's limit, out-of-range and odd publication
dates, huge numbers, one long line, one long token, punctuation only, many short sentences,
repeated trigger words, long place lists and HTML shaped to make tree processing quadratic.

    python scripts/hostile_corpus.py OUT_DIR [--variants N] [--seed S]

writes one file per case (`.jsonl` for `extract`, `.txt`/`.html`/`.json` for `run`) and prints
how many. `tests/test_hostile.py` imports `cases()` to run each case under the time limit.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_WORDS = ("troops", "moved", "near", "the", "border", "on", "Sunday", "officials", "said", "army",
          "convoy", "village", "shelling", "reported", "late", "night", "ministry", "denied")
_TRIGGERS = ("attacked", "shelled", "accused", "deployed", "threatened", "protested", "massed")
_PLACES = ("Kyiv", "Lviv", "Odesa", "Kharkiv", "Minsk", "Brest", "Gomel", "Chernihiv", "Sumy",
           "Mariupol", "Donetsk", "Luhansk", "Belgorod", "Kursk", "Tbilisi", "Yerevan", "Baku")
_DATES = ("0001-01-01", "9999-12-31", "11/28/2016", "28/11/2016", "03/04/2016", "2016-02-30",
          "Tue, 29 Nov 2016 10:00:00 +0000", "2016-11-28T25:00:00", "-0001-01-01", "1" * 5000,
          "9999-12-31T23:59:59+14:00", "0000-00-00", "20161128", "2016-W48-1", "13/13/2016")


class Rng(random.Random):
    """The corpus's random source; `size` picks how big a case is (bytes, depth, count).

    With `sampled` off, a size is one of the few the issue reports (the heaviest included);
    with it on, a `FULL_SHARE` of the cases still take one of those, and the others a size drawn
    log-uniformly from `SAMPLED` (fractions of the largest): thousands of cases of every kind at
    a fraction of the cost, the full sizes among them.
    """

    def __init__(self, seed: int, *, sampled: bool = False) -> None:
        super().__init__(seed)
        self.sampled = sampled

    def full(self) -> bool:
        """Does this case take a size the issue reports?"""
        return not self.sampled or self.random() < FULL_SHARE

    def size(self, *choices: int) -> int:
        if self.full():
            return self.choice(choices)
        low, high = SAMPLED
        return max(1, round(max(choices) * math.exp(self.uniform(math.log(low), math.log(high)))))


FULL_SHARE = 0.04
SAMPLED = (0.001, 0.1)


@dataclass(frozen=True)
class Case:
    """One hostile input: its file name, the bytes to write, and what it is meant to provoke."""

    name: str
    data: bytes
    kind: str

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix


def _sentence(rng: Rng, words: int = 8) -> str:
    body = " ".join(rng.choice(_WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def _prose(rng: Rng, size: int) -> str:
    """Paragraphs of plausible sentences, about `size` characters."""
    parts: list[str] = []
    total = 0
    while total < size:
        paragraph = " ".join(_sentence(rng, rng.randint(5, 14)) for _ in range(rng.randint(2, 6)))
        parts.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(parts)


def _line(record: dict[str, object]) -> bytes:
    """One JSON line; lone surrogates come out as JSON escapes ("\\ud800"), as a serializer writes them."""
    return json.dumps(record).encode() + b"\n"


def _deep_json(rng: Rng, i: int) -> Iterator[Case]:
    depth = rng.size(1_000, 5_000, 50_000, 200_000)
    yield Case(f"deep-json-list-{i}.json", b"[" * depth + b"]" * depth, "deep-json")
    yield Case(f"deep-json-text-{i}.jsonl", b'{"id": "d", "text": ' + b"[" * depth + b"]" * depth + b"}\n",
               "deep-json")
    yield Case(f"deep-json-object-{i}.jsonl", b'{"a":' * depth + b"1" + b"}" * depth + b"\n", "deep-json")


def _surrogates(rng: Rng, i: int) -> Iterator[Case]:
    text = _prose(rng, 800)
    cut = rng.randrange(len(text))
    yield Case(f"surrogate-json-{i}.jsonl", _line({"id": "s", "text": text[:cut] + "\ud800" + text[cut:]}),
               "surrogate")
    yield Case(f"surrogate-title-{i}.jsonl", _line({"id": "s", "title": "\udfff", "text": text}), "surrogate")
    html = f"<html><body><article><p>{text[:cut]}&#xD800;{text[cut:]}</p></article></body></html>"
    yield Case(f"surrogate-entity-{i}.html", html.encode(), "surrogate")
    record = {"id": "s", "html": f"<p>{text}&#55296;</p><p>{text}</p>"}
    yield Case(f"surrogate-entity-{i}.jsonl", _line(record), "surrogate")
    yield Case(f"surrogate-cesu-{i}.txt", text.encode() + b"\xed\xa0\x80" + text.encode(), "surrogate")


def _over_limit(rng: Rng, i: int) -> Iterator[Case]:
    if not rng.full():
        return  # only past the parser's limit is this kind itself
    size = rng.choice((1_050_000, 1_300_000))
    yield Case(f"over-parser-limit-{i}.txt", _prose(rng, size).encode(), "over-limit")


def _dates(rng: Rng, i: int) -> Iterator[Case]:
    text = "Russian troops shelled the village near Sumy yesterday, officials said last week."
    lines = [_line({"id": f"good-{i}-a", "text": text, "published": "2024-08-25"})]
    for n, value in enumerate(rng.sample(_DATES, 4)):
        lines.append(_line({"id": f"date-{i}-{n}", "text": text, "published": value}))
    edges = "Troops shelled Sumy on December 31, 9999. Kyiv accused Minsk on January 1, 0001."
    lines.append(_line({"id": f"edge-{i}", "published": "2024-08-25", "text": edges}))
    lines.append(_line({"id": f"good-{i}-b", "text": text}))
    yield Case(f"dates-{i}.jsonl", b"".join(lines), "dates")
    value = rng.choice(_DATES)
    html = f'<html><head><meta property="article:published_time" content="{value}"></head>' \
           f"<body><article><p>{text}</p><p>{text}</p></article></body></html>"
    yield Case(f"dates-meta-{i}.html", html.encode(), "dates")


def _numbers(rng: Rng, i: int) -> Iterator[Case]:
    digits = "".join(rng.choice(string.digits[1:]) for _ in range(5_000))
    yield Case(f"huge-number-field-{i}.jsonl", b'{"id": ' + digits.encode() + b', "text": "Troops moved."}\n',
               "huge-number")
    yield Case(f"huge-number-text-{i}.txt", f"Troops moved {digits} metres toward the border.".encode(),
               "huge-number")
    yield Case(f"huge-float-{i}.jsonl", b'{"id": "f", "text": "x", "n": 1e' + digits[:400].encode() + b"}\n",
               "huge-number")


def _long_line(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(92_000, 150_000)
    words = " ".join(rng.choice(_WORDS + _TRIGGERS + _PLACES) for _ in range(size // 6))
    yield Case(f"long-line-{i}.txt", words[:size].encode(), "long-line")
    yield Case(f"long-line-commas-{i}.txt", ", ".join(words.split())[:size].encode(), "long-line")


def _long_token(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(50_000, 120_000)
    alphabet = rng.choice((string.ascii_letters, string.ascii_letters + string.digits + "+/", "a-", ".,"))
    token = "".join(rng.choice(alphabet) for _ in range(size))
    yield Case(f"long-token-{i}.txt", f"Troops moved near {token} the border.".encode(), "long-token")
    yield Case(f"long-url-{i}.txt", f"See https://example.test/{token} for more.".encode(), "long-token")


def _punctuation(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(131_000, 190_000)
    chars = rng.choice((string.punctuation, ".", "!?", "-–—", "()[]{}", ". "))
    text = "".join(rng.choice(chars) for _ in range(size))
    yield Case(f"punctuation-{i}.txt", text.encode(), "punctuation")


def _short_sentences(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(120_000, 150_000, 180_000)
    pick = rng.choice((lambda: rng.choice(_WORDS).capitalize() + ".",
                       lambda: f"{rng.choice(_PLACES)} {rng.choice(_TRIGGERS)} {rng.choice(_PLACES)}.",
                       lambda: "A."))
    parts: list[str] = []
    total = 0
    while total < size:
        parts.append(pick())
        total += len(parts[-1]) + 1
    sep = rng.choice((" ", "\n"))
    yield Case(f"short-sentences-{i}.txt", sep.join(parts).encode(), "short-sentences")


def _triggers(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(8_700, 30_000)
    pattern = rng.choice((
        lambda: rng.choice(_TRIGGERS),
        lambda: f"Russia {rng.choice(_TRIGGERS)} Ukraine",
        lambda: f"{rng.choice(_PLACES)} troops {rng.choice(_TRIGGERS)} {rng.choice(_PLACES)}.",
    ))
    parts: list[str] = []
    total = 0
    while total < size:
        parts.append(pattern())
        total += len(parts[-1]) + 1
    yield Case(f"repeated-triggers-{i}.txt", " ".join(parts).encode(), "triggers")


def _places(rng: Rng, i: int) -> Iterator[Case]:
    size = rng.size(20_000, 60_000, 150_000)
    names: list[str] = []
    total = 0
    while total < size:
        names.append(rng.choice(_PLACES))
        total += len(names[-1]) + 2
    text = "Russian forces shelled " + ", ".join(names) + " and attacked Sumy on Sunday."
    yield Case(f"place-list-{i}.txt", text.encode(), "places")
    sentences = " ".join(f"Troops shelled {rng.choice(_PLACES)} near {rng.choice(_PLACES)}."
                         for _ in range(size // 40))
    yield Case(f"place-sentences-{i}.txt", sentences.encode(), "places")


def _html(rng: Rng, i: int) -> Iterator[Case]:
    depth = rng.size(2_000, 5_000, 20_000)
    nested = "<div>" * depth + _prose(rng, 300) + "</div>" * depth
    yield Case(f"html-nested-div-{i}.html", f"<html><body>{nested}</body></html>".encode(), "html")
    unclosed = "".join(f"<{rng.choice('bisu')}><p>{rng.choice(_WORDS)}" for _ in range(depth))
    yield Case(f"html-unclosed-{i}.html", f"<html><body>{unclosed}</body></html>".encode(), "html")
    yield Case(f"html-tables-{i}.html",
               ("<html><body>" + "<table><tr><td>" * (depth // 4) + "x" + "</td></tr></table>" * (depth // 4)
                + "</body></html>").encode(), "html")
    paragraphs = "".join(f"<p>{_sentence(rng)}</p>" for _ in range(depth))
    yield Case(f"html-paragraphs-{i}.html",
               f"<html><body><article>{paragraphs}</article></body></html>".encode(), "html")
    attrs = " ".join(f'a{n}="{"x" * 20}"' for n in range(depth // 4))
    yield Case(f"html-attributes-{i}.html",
               f"<html><body><p {attrs}>{_prose(rng, 500)}</p></body></html>".encode(), "html")
    yield Case(f"html-comments-{i}.html",
               ("<html><body>" + "<!--" * depth + _prose(rng, 500) + "</body></html>").encode(), "html")


def _bytes(rng: Rng, i: int) -> Iterator[Case]:
    yield Case(f"random-bytes-{i}.txt", rng.randbytes(rng.size(1_000, 50_000)), "bytes")
    text = _prose(rng, 2_000)
    yield Case(f"latin1-{i}.txt", (text + " Société générale à côté.").encode("latin-1"), "bytes")
    yield Case(f"utf16-{i}.txt", text.encode("utf-16"), "bytes")
    broken = bytearray(text.encode())
    for _ in range(5):
        broken[rng.randrange(len(broken))] = rng.choice((0xC3, 0xFF, 0x80))
    yield Case(f"broken-utf8-{i}.jsonl", b'{"id": "b", "text": "' + bytes(broken).replace(b'"', b"'")
               .replace(b"\n", b" ") + b'"}\n', "bytes")


GENERATORS: tuple[Callable[[Rng, int], Iterator[Case]], ...] = (
    _deep_json, _surrogates, _over_limit, _dates, _numbers, _long_line, _long_token, _punctuation,
    _short_sentences, _triggers, _places, _html, _bytes,
)


def cases(variants: int = 1, seed: int = 12, *, max_bytes: int | None = None,
          sampled: bool = False) -> Iterator[Case]:
    """`variants` cases of every kind, the same for the same seed; larger than `max_bytes` left
    out; `sampled`: sizes across the range (`Rng`)."""
    rng = Rng(seed, sampled=sampled)
    for i in range(variants):
        for generate in GENERATORS:
            for case in generate(rng, i):
                if max_bytes is None or len(case.data) <= max_bytes:
                    yield case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--sampled", action="store_true", help="Sizes across the range (Rng).")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for case in cases(args.variants, args.seed, sampled=args.sampled):
        (args.out / case.name).write_bytes(case.data)
        written += 1
    print(f"{written} cases written to {args.out}")


if __name__ == "__main__":
    main()
