"""The documented example configurations load as they are; their URLs are data, never fetched."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from borderwatch.config import load_config
from borderwatch.watch import load_watch_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_example_watch_configuration_loads() -> None:
    path = EXAMPLES / "watch.toml"
    watch = load_watch_config(path)
    feeds = [s for s in watch.sources if s.kind == "feed"]
    assert len(feeds) >= 10
    assert all(urlsplit(s.location).scheme == "https" for s in feeds)
    assert len({urlsplit(s.location).netloc for s in feeds}) >= 10  # many publishers, not one
    assert not watch.allow_private
    config = load_config(path)
    assert not config.prefilter.enabled  # it loses sighting lines (README, Scale)
    assert config.db_url and config.db_url.startswith("sqlite:////")
