"""The clean stage's packaged data files, read in one way: a file that cannot be read is a
ConfigError naming it, raised when the module loads rather than on the first document."""

from __future__ import annotations

from importlib import resources

from borderwatch.errors import ConfigError


def read_packaged(name: str, what: str) -> tuple[str, str]:
    """The text of `data/NAME` and the path it was read from."""
    data = resources.files("borderwatch").joinpath("data", name)
    try:
        return data.read_text(encoding="utf-8"), str(data)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", source=str(data)) from exc
