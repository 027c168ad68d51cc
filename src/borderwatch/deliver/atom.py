"""An Atom 1.0 file of alerts: any feed reader becomes an alert console (DESIGN §5).

Alert text quotes untrusted articles, so every string is written through ElementTree, which
escapes markup, after dropping the characters XML 1.0 cannot carry at all. Entries already in the
file are kept, so the feed accumulates across runs; an alert written again replaces its entry
(and moves to the top) only when it changed, for example when it escalated.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from borderwatch.deliver.email import body, subject
from borderwatch.errors import DeliveryError
from borderwatch.models import Alert

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "urn:borderwatch:alerts"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters no XML 1.0 document may contain, escaped or not (control characters, surrogates)."""
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}

ET.register_namespace("", ATOM)


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _safe(text: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    child = ET.SubElement(parent, _tag(name), {k: _safe(v) for k, v in attributes.items()})
    if text is not None:
        child.text = _safe(text)
    return child


def entry_id(alert_id: str) -> str:
    """The entry's Atom id: a URN, whatever characters the alert id holds."""
    return "urn:borderwatch:alert:" + quote(alert_id, safe="")


def write_atom(alerts: Sequence[Alert], path: str | os.PathLike[str]) -> int:
    """Merge `alerts` into the Atom feed at `path` (created if absent), newest first.

    Returns how many entries were added or replaced; the file is rewritten atomically, and only
    when that number is not zero. A file that is not an Atom feed is left alone (`DeliveryError`).
    """
    target = Path(path)
    existing = _read_entries(target)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    latest = {alert.id: alert for alert in alerts}  # a later version of the same alert wins
    ordered = sorted(
        latest.values(), key=lambda a: (a.as_of, _SEVERITY_RANK.get(a.severity, 0), a.id), reverse=True
    )
    known = {_id_of(entry): entry for entry in existing}
    fresh = []
    for alert in ordered:
        entry = _entry(alert, stamp)
        old = known.get(_id_of(entry))
        if old is None or _content(old) != _content(entry):
            fresh.append(entry)
    if not fresh:
        return 0
    replaced = {_id_of(entry) for entry in fresh}
    entries = fresh + [entry for entry in existing if _id_of(entry) not in replaced]
    _write(_feed(entries, stamp), target)
    return len(fresh)


def _entry(alert: Alert, stamp: str) -> ET.Element:
    entry = ET.Element(_tag("entry"))
    _add(entry, "id", entry_id(alert.id))
    _add(entry, "title", subject(alert).removeprefix("[Borderwatch] "), type="text")
    _add(entry, "updated", stamp)
    _add(entry, "category", term=alert.severity, scheme="urn:borderwatch:severity")
    _add(entry, "category", term=alert.rule, scheme="urn:borderwatch:rule")
    _add(entry, "summary", alert.explanation, type="text")
    _add(entry, "content", body(alert), type="text")
    return entry


def _feed(entries: list[ET.Element], stamp: str) -> ET.Element:
    feed = ET.Element(_tag("feed"))
    _add(feed, "id", FEED_ID)
    _add(feed, "title", "Borderwatch alerts", type="text")
    _add(feed, "updated", stamp)
    author = _add(feed, "author")
    _add(author, "name", "Borderwatch")
    _add(feed, "generator", "Borderwatch")
    feed.extend(entries)
    return feed


def _id_of(entry: ET.Element) -> str:
    return entry.findtext(_tag("id"), default="")


def _content(entry: ET.Element) -> list[tuple[str, str, dict[str, str]]]:
    """What an entry says, without its timestamp or layout: equal content means nothing to rewrite."""
    return [
        (child.tag, (child.text or "").strip(), dict(child.attrib))
        for child in entry.iter()
        if child.tag != _tag("updated")
    ]


def _read_entries(path: Path) -> list[ET.Element]:
    if not path.exists():
        return []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DeliveryError(f"cannot read the existing feed: {exc}", source=str(path)) from exc
    if root.tag != _tag("feed"):
        raise DeliveryError("exists but is not an Atom feed; not overwriting it", source=str(path))
    return root.findall(_tag("entry"))


def _write(feed: ET.Element, path: Path) -> None:
    """Write beside the target and rename over it, so a reader never sees half a feed."""
    ET.indent(feed)
    tmp: str | None = None
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as handle:
            ET.ElementTree(feed).write(handle, encoding="utf-8", xml_declaration=True)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise DeliveryError(f"cannot write the feed: {exc}", source=str(path)) from exc
