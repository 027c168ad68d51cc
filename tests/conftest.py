"""Shared fixtures: the real spaCy pipeline (loaded once), the real CLI, and small helpers.

Nothing here fakes a stage: tests drive `borderwatch.cli.app` through typer's `CliRunner`, write
real SQLite files under `tmp_path`, and read `../shared` at run time only (skipping when absent).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language
from typer.testing import CliRunner

from borderwatch.cli import app
from borderwatch.errors import GeoError
from borderwatch.geo.gazetteer import Gazetteer
from borderwatch.geo.gazetteer import default_path as gazetteer_path
from borderwatch.models import Analysis
from borderwatch.nlp import load_pipeline
from borderwatch.pipeline import Pipeline

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "000_27b3de6de7ba2833.txt"


def _gazetteer_installed() -> bool:
    try:
        Gazetteer.open().close()
    except GeoError:
        return False
    return True


needs_gazetteer = pytest.mark.skipif(not _gazetteer_installed(),
                                     reason="gazetteer not installed (run `borderwatch data install`)")
"""The team's shared folder beside the repository; never copied into it."""

WIDE = "400"
"""Terminal width for the CLI under test, so rich never wraps a path or a table cell."""


@pytest.fixture(scope="session")
def nlp() -> Language:
    """The configured spaCy pipeline, loaded once per test session."""
    return load_pipeline()


@pytest.fixture(scope="session")
def pipeline(nlp: Language) -> Pipeline:
    """The whole analysis pipeline (clean → nlp → extract) over the session's spaCy pipeline."""
    return Pipeline()


def analyse_text(pipeline: Pipeline, text: str, published: str | None = "2024-03-08") -> Analysis:
    """One text through the whole pipeline, as `run` and `extract` analyse it; it must not fail."""
    from borderwatch.config import IngestConfig
    from borderwatch.ingest import document_from_record

    record = {"id": "t", "text": text, **({"published": published} if published else {})}
    (analysis,) = pipeline.analyse([document_from_record(record, "test", IngestConfig())])
    assert analysis.error is None
    return analysis


@pytest.fixture
def shared() -> Path:
    """The shared folder, or a skip saying where it was looked for."""
    if not SHARED.is_dir():
        pytest.skip(f"shared folder not found at {SHARED}")
    return SHARED


@dataclass
class CliResult:
    """What one CLI invocation did: exit code and the two output streams, separately."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def jsonl(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class Cli:
    """`borderwatch ARGS...` in-process, with a wide terminal and a private data directory."""

    def __init__(self, data_home: Path) -> None:
        private_data_home(data_home)
        self.runner = CliRunner()
        self.env = {"COLUMNS": WIDE, "XDG_DATA_HOME": str(data_home), "NO_COLOR": "1"}

    def __call__(self, *args: str | os.PathLike[str], input: str | None = None) -> CliResult:
        result = self.runner.invoke(app, [str(a) for a in args], input=input, env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a crash is a bug, never an exit code to compare
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


def private_data_home(data_home: Path) -> Path:
    """A fresh data directory (its own store) that still sees the installed, read-only gazetteer."""
    installed = gazetteer_path()
    target = data_home / "borderwatch" / installed.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if installed.exists() and not target.exists():
        target.symlink_to(installed)
    return data_home


@pytest.fixture(scope="session")
def make_cli(nlp: Language, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Cli]:
    """A factory of `Cli`s, for fixtures wider than one test; spaCy is loaded before the first."""
    return lambda: Cli(tmp_path_factory.mktemp("data-home"))


@pytest.fixture
def cli(make_cli: Callable[[], Cli]) -> Cli:
    """The real `borderwatch` app (`from conftest import Cli` for the type, under TYPE_CHECKING)."""
    return make_cli()


@pytest.fixture
def isolated_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a subprocess: wide terminal, private data directory."""
    env = dict(os.environ)
    env.update({"COLUMNS": WIDE, "XDG_DATA_HOME": str(private_data_home(tmp_path / "data-home")),
                "NO_COLOR": "1"})
    yield env
