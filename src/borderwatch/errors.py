"""One exception hierarchy: every error names the input and the pipeline stage it came from."""

from __future__ import annotations


class BorderwatchError(Exception):
    """Base class of every error Borderwatch raises on purpose."""

    stage = "borderwatch"

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ConfigError(BorderwatchError):
    """The configuration file or a data file it names is missing or malformed."""

    stage = "config"


class IngestError(BorderwatchError):
    """An input could not be read: missing, binary, empty, too large, badly encoded or malformed."""

    stage = "ingest"


class CleanError(BorderwatchError):
    """The main text could not be extracted from an input."""

    stage = "clean"


class ExtractError(BorderwatchError):
    """Event extraction failed on a document."""

    stage = "extract"


class StoreError(BorderwatchError):
    """The event store could not be opened, migrated or written."""

    stage = "store"


class EvalError(BorderwatchError):
    """A gold or prediction file could not be scored."""

    stage = "eval"


class GeoError(BorderwatchError):
    """The gazetteer is missing, outdated or unreadable, or could not be built from its sources."""

    stage = "geo"


class FetchError(BorderwatchError):
    """A watched source could not be fetched or read: refused address, timeout, too large, malformed."""

    stage = "fetch"


class DeliveryError(BorderwatchError):
    """An alert could not be delivered to a channel: Atom file, webhook or mail server."""

    stage = "deliver"


class LimitError(BorderwatchError):
    """A document ran past a processing limit (its time budget) and was skipped, the rest going on."""

    stage = "limit"
