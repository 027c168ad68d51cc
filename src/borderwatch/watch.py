"""Watch mode: poll RSS/Atom feeds, folders and web pages; analyse and store only what is new.

Every watched source is untrusted input from the network, so a fetch is bounded three ways: a
time limit per source, a byte limit enforced while streaming, and an address check. The host is
resolved once, every address is checked (private, loopback, link-local, reserved and other
non-global addresses are refused unless ``allow_private``), and the request then goes to a checked
address, so a name cannot re-resolve somewhere private in between (DNS rebinding). Redirects are
followed by hand so each hop is checked the same way. A failing source backs off exponentially;
the others go on, and each failure is reported naming its source.

What was seen is remembered in a small table of the watcher's own, ``watch_seen``, in the store's
database: created with ``checkfirst`` from a `MetaData` separate from the store's alembic-managed
schema, because it is bookkeeping of this process rather than part of the event model (dropping
it only makes the watcher read everything again; the store still collapses documents it has).
Items are marked seen after they are stored, so a crash in between re-reads, never loses.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import re
import socket
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal, cast

import feedparser
import httpx
from sqlalchemy import Column, Engine, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from borderwatch.assess.cluster import assign_clusters
from borderwatch.config import IngestConfig
from borderwatch.deliver import DeliveryConfig, SmtpSettings, WebhookTarget
from borderwatch.errors import BorderwatchError, ConfigError, FetchError, IngestError, StoreError
from borderwatch.ingest import document_from_record, iter_inputs, without_surrogates
from borderwatch.models import Alert, Document
from borderwatch.pipeline import Pipeline
from borderwatch.store import Store

SourceKind = Literal["feed", "folder", "url"]
_KINDS: tuple[SourceKind, ...] = ("feed", "folder", "url")
_MAX_REDIRECTS = 5
DEFAULT_INTERVAL_S = 300.0
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_FOLDER_SUFFIXES = frozenset({"", ".txt", ".text", ".html", ".htm", ".json", ".jsonl"})
"""The suffixes `iter_inputs` reads from folders; other files in a watched folder are ignored."""
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchSource:
    """One thing to poll, with its limits resolved from the ``[watch]`` defaults."""

    kind: SourceKind
    location: str
    """A feed or page URL (http or https), or a folder path."""
    interval_s: float = DEFAULT_INTERVAL_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    """The whole exchange, redirects and body included, not each network operation."""
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class WatchConfig:
    """The ``[watch]`` table: sources, network policy, back-off and the delivery channels."""

    sources: tuple[WatchSource, ...] = ()
    allow_private: bool = False
    """Allow private, loopback and link-local addresses (a lab or a test, never the open web)."""
    backoff_max_s: float = 3600.0
    """A failing source waits interval·2ⁿ after its n-th failure in a row, at most this long."""
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)

    @classmethod
    def from_table(cls, table: Any, *, source: str, base: Path) -> WatchConfig:
        """Validate a parsed ``[watch]`` table; relative paths are taken from `base`."""
        keys = {"sources", "interval_s", "timeout_s", "max_bytes", "allow_private", "backoff_max_s",
                "atom_out", "webhooks", "smtp"}
        _check_keys(table, keys, "[watch]", source)
        defaults = {
            "interval_s": _number(table, "interval_s", DEFAULT_INTERVAL_S, "[watch]", source),
            "timeout_s": _number(table, "timeout_s", DEFAULT_TIMEOUT_S, "[watch]", source),
            "max_bytes": int(_number(table, "max_bytes", DEFAULT_MAX_BYTES, "[watch]", source)),
        }
        sources = tuple(
            _source(entry, defaults, f"[watch] sources[{i}]", source, base)
            for i, entry in enumerate(_list(table, "sources", "[watch]", source))
        )
        hooks = tuple(
            _webhook(entry, f"[watch] webhooks[{i}]", source)
            for i, entry in enumerate(_list(table, "webhooks", "[watch]", source))
        )
        atom_out = _string(table, "atom_out", "[watch]", source, required=False)
        smtp = table.get("smtp")
        return cls(
            sources=sources,
            allow_private=_bool(table, "allow_private", False, "[watch]", source),
            backoff_max_s=_number(table, "backoff_max_s", 3600.0, "[watch]", source),
            delivery=DeliveryConfig(
                atom_out=base / atom_out if atom_out else None,
                webhooks=hooks,
                smtp=_smtp(smtp, source) if smtp is not None else None,
            ),
        )


def load_watch_config(path: Path) -> WatchConfig:
    """The ``[watch]`` table of a TOML file; paths in it are relative to the file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", source=str(path)) from exc
    if "watch" not in raw:
        raise ConfigError("no [watch] table: nothing to watch", source=str(path))
    return WatchConfig.from_table(raw["watch"], source=str(path), base=path.parent)


def _check_keys(table: Any, allowed: set[str], where: str, source: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", source=source)
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"unknown keys in {where}: {', '.join(sorted(unknown))}", source=source)


def _number(table: dict[str, Any], name: str, default: float, where: str, source: str) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} {name} must be a positive number, not {value!r}", source=source)
    return float(value)


def _bool(table: dict[str, Any], name: str, default: bool, where: str, source: str) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where} {name} must be true or false, not {value!r}", source=source)
    return value


def _string(
    table: dict[str, Any], name: str, where: str, source: str, *, required: bool = True
) -> str | None:
    value = table.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {name} must be a non-empty string", source=source)
    return value


def _list(table: dict[str, Any], name: str, where: str, source: str) -> list[Any]:
    value = table.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where} {name} must be a list", source=source)
    return value


def _source(entry: Any, defaults: dict[str, float], where: str, source: str, base: Path) -> WatchSource:
    _check_keys(entry, {"kind", "location", *defaults}, where, source)
    kind = entry.get("kind")
    if kind not in _KINDS:
        raise ConfigError(f"{where} kind must be one of {', '.join(_KINDS)}, not {kind!r}", source=source)
    location = cast(str, _string(entry, "location", where, source))
    if kind == "folder":
        location = str(base / Path(location).expanduser())
    elif not location.startswith(("http://", "https://")):
        raise ConfigError(f"{where} location must be an http(s) URL, not {location!r}", source=source)
    return WatchSource(
        kind=kind,
        location=location,
        interval_s=_number(entry, "interval_s", defaults["interval_s"], where, source),
        timeout_s=_number(entry, "timeout_s", defaults["timeout_s"], where, source),
        max_bytes=int(_number(entry, "max_bytes", defaults["max_bytes"], where, source)),
    )


def _webhook(entry: Any, where: str, source: str) -> WebhookTarget:
    _check_keys(entry, {"url", "secret"}, where, source)
    return WebhookTarget(url=cast(str, _string(entry, "url", where, source)),
                         secret=cast(str, _string(entry, "secret", where, source)))


def _smtp(table: Any, source: str) -> SmtpSettings:
    where = "[watch.smtp]"
    _check_keys(table, {"host", "port", "from", "to", "starttls", "username", "password_env", "timeout_s"},
                where, source)
    to = table.get("to")
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and a for a in to):
        raise ConfigError(f"{where} to must be a non-empty list of addresses", source=source)
    username = _string(table, "username", where, source, required=False)
    password_env = _string(table, "password_env", where, source, required=False)
    if username and not password_env:
        raise ConfigError(f"{where} username needs password_env (the password is never in the file)",
                          source=source)
    return SmtpSettings(
        host=cast(str, _string(table, "host", where, source)),
        port=int(_number(table, "port", 25, where, source)),
        sender=cast(str, _string(table, "from", where, source)),
        to=tuple(to),
        starttls=_bool(table, "starttls", False, where, source),
        username=username,
        password_env=password_env,
        timeout_s=_number(table, "timeout_s", 20.0, where, source),
    )


# --- fetching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """A response body read within the limits, and what the server said it is."""

    url: str
    """The final URL, after redirects."""
    content_type: str
    body: bytes


def _forbidden(address: str) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-global"


def allowed_addresses(url: str, *, allow_private: bool, source: str | None = None) -> list[str]:
    """The addresses `url`'s host resolves to, all checked; `FetchError` if any is refused.

    Only http and https are fetched at all. With `allow_private` false, one private address
    among several refuses the whole host: a name that mixes them is not to be trusted.
    """
    where = source or url
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"not a valid URL: {exc}", source=where) from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"refused {url!r}: only http and https are fetched", source=where)
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"refused {url!r}: no host", source=where)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", source=where) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private:
        for address in addresses:
            kind = _forbidden(address)
            if kind is not None:
                raise FetchError(f"refused {url}: {host} is a {kind} address ({address}); "
                                 "set allow_private to reach it", source=where)
    return addresses


def fetch(
    client: httpx.Client, url: str, *, timeout_s: float, max_bytes: int, allow_private: bool
) -> Fetched:
    """GET `url` within `timeout_s` and `max_bytes`, following at most a few checked redirects.

    Raises `FetchError` naming `url` for a refused address, a timeout, an oversize body, an HTTP
    error status or a network failure.
    """
    deadline = time.monotonic() + timeout_s
    current = url
    for _ in range(_MAX_REDIRECTS + 1):
        addresses = allowed_addresses(current, allow_private=allow_private, source=url)
        result = _get(client, httpx.URL(current), addresses, deadline, max_bytes, url)
        if isinstance(result, Fetched):
            return result
        current = result
    raise FetchError(f"more than {_MAX_REDIRECTS} redirects", source=url)


def _get(
    client: httpx.Client, target: httpx.URL, addresses: list[str], deadline: float, max_bytes: int,
    source: str,
) -> Fetched | str:
    """One request to the first checked address that answers: the body, or a redirect's URL."""
    extensions = {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
    last: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        request = client.build_request(
            "GET", target.copy_with(host=address), headers={"Host": target.netloc.decode("ascii")},
            extensions=extensions, timeout=httpx.Timeout(remaining),
        )
        try:
            response = client.send(request, stream=True)
        except httpx.ConnectError as exc:  # the next address may answer
            last = exc
            continue
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out fetching {target}", source=source) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {target}: {type(exc).__name__}: {exc}", source=source) from exc
        try:
            return _read(response, target, deadline, max_bytes, source)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out reading {target}", source=source) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot read {target}: {type(exc).__name__}: {exc}", source=source) from exc
        finally:
            response.close()
    if last is None:
        raise FetchError(f"timed out fetching {target}", source=source)
    raise FetchError(f"cannot connect to {target.host}: {last}", source=source)


def _read(response: httpx.Response, target: httpx.URL, deadline: float, max_bytes: int,
          source: str) -> Fetched | str:
    if response.is_redirect:  # any 3xx: only those that say where to go are followed
        location = response.headers.get("location")
        if not location:
            raise FetchError(f"HTTP {response.status_code} without a Location from {target}", source=source)
        try:
            return str(target.join(location))
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"HTTP {response.status_code} to a bad Location {location[:200]!r}: {exc}",
                             source=source) from exc
    if not response.is_success:
        raise FetchError(f"HTTP {response.status_code} from {target}", source=source)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"refused: {declared} bytes exceed the {max_bytes}-byte limit", source=source)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"refused: the body exceeds the {max_bytes}-byte limit", source=source)
        if time.monotonic() > deadline:
            raise FetchError(f"timed out reading {target}", source=source)
        chunks.append(chunk)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(url=str(target), content_type=content_type, body=b"".join(chunks))


# --- items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """An item a source offers: its identity, its version, and how to read it if it is new."""

    key: str
    version: str
    """Changes when the item must be read again (a folder file's mtime and size; a page's hash)."""
    load: Callable[[], list[Document | IngestError]]


class _TextOf(HTMLParser):
    """The text of an HTML fragment (feedparser has already sanitised it), one block per line."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "pre", "table", "tr", "section", "article", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blocks on their own lines."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _entry_text(entry: Any) -> str:
    """The richest text an entry has: full content, else its summary, else its title."""
    details = [*entry.get("content", []), entry.get("summary_detail")]
    for detail in details:
        if detail and detail.get("value", "").strip():
            value = detail["value"]
            return html_text(value) if "html" in detail.get("type", "html") else value.strip()
    return str(entry.get("title", "")).strip()


def _published(entry: Any) -> str | None:
    """The entry's date as ISO 8601 (ingest judges whether it is possible), or None."""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        return datetime(*stamp[:6], tzinfo=UTC).isoformat() if stamp else None
    except (TypeError, ValueError, OverflowError):
        return None


_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]{1,16}|[0-9]{1,16});")


def _no_surrogate_refs(body: bytes) -> bytes:
    """`body` with character references to no character (a lone surrogate such as ``&#xD800;``,
    or past U+10FFFF) turned into U+FFFD's: feedparser raises on them, losing the whole feed."""

    def fix(match: re.Match[bytes]) -> bytes:
        digits = match.group(1)
        code = int(digits[1:], 16) if digits[:1] in b"xX" else int(digits)
        return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group()

    return _CHARREF.sub(fix, body)


def _feed_candidates(fetched: Fetched, location: str, ingest: IngestConfig) -> list[_Candidate]:
    # A file-like object, never bytes: given bytes that name a path, feedparser would open the file.
    try:
        parsed = feedparser.parse(
            io.BytesIO(_no_surrogate_refs(fetched.body)),
            response_headers={"content-type": fetched.content_type or "application/xml",
                              "content-location": fetched.url},
        )
    except Exception as exc:  # feedparser's own failures on hostile input
        raise FetchError(f"malformed feed: {type(exc).__name__}: {exc}", source=location) from exc
    if not parsed.get("version") or (parsed.bozo and not parsed.entries):
        problem = parsed.get("bozo_exception")
        raise FetchError(
            "malformed feed: not a readable RSS or Atom document" + (f" ({problem})" if problem else ""),
            source=location,
        )
    outlet = without_surrogates(str(parsed.feed.get("title") or httpx.URL(fetched.url).host))
    candidates = []
    for number, entry in enumerate(parsed.entries):
        try:
            candidates.append(_entry_candidate(entry, location, outlet, ingest))
        except Exception as exc:  # one odd entry is reported, the feed goes on
            key = f"entry {number}: {hashlib.sha256(repr(entry).encode('utf-8', 'replace')).hexdigest()}"
            error = IngestError(f"unreadable feed entry: {type(exc).__name__}: {exc}",
                                source=f"{location} {key}")
            candidates.append(_Candidate(key, "", lambda error=error: [error]))
    return candidates


def _entry_candidate(entry: Any, location: str, outlet: str, ingest: IngestConfig) -> _Candidate:
    link = entry.get("link")
    web = isinstance(link, str) and link.startswith(("http://", "https://"))
    link = without_surrogates(link) if web else None
    text = _entry_text(entry)
    title = entry.get("title")
    text_key = f"{title}\n{text}".encode("utf-8", "replace")
    key = without_surrogates(str(entry.get("id") or link or hashlib.sha256(text_key).hexdigest()))
    record = {"text": text, "url": link, "title": title, "published": _published(entry)}
    name = link or f"{location} {key}"
    return _Candidate(key, "", _entry_loader(record, name, outlet, ingest))


def _entry_loader(
    record: dict[str, Any], name: str, outlet: str, ingest: IngestConfig
) -> Callable[[], list[Document | IngestError]]:
    def load() -> list[Document | IngestError]:
        try:
            return [replace(document_from_record(record, name, ingest), outlet=outlet)]
        except IngestError as error:
            return [error]
        except Exception as exc:  # one odd item is reported, the rest go on
            return [IngestError(f"unreadable item: {type(exc).__name__}: {exc}", source=name)]

    return load


def _page_candidate(fetched: Fetched, location: str, ingest: IngestConfig) -> _Candidate:
    """A single page is read again whenever its bytes change."""
    textual = fetched.content_type in _HTML_TYPES or fetched.content_type.startswith("text/")
    if fetched.content_type and not textual:
        raise FetchError(f"not a web page or text: {fetched.content_type}", source=location)

    def load() -> list[Document | IngestError]:
        # Ingest's stdin reader sniffs HTML vs text, decodes and takes page metadata; rename its items.
        stream = io.TextIOWrapper(io.BytesIO(fetched.body))
        found: list[Document | IngestError] = []
        for item in iter_inputs(["-"], ingest, stdin=stream):
            if isinstance(item, Document):
                found.append(replace(item, source=location, url=item.url or fetched.url))
            else:
                found.append(IngestError(item.message, source=location))
        return found

    return _Candidate(location, hashlib.sha256(fetched.body).hexdigest(), load)


def _folder_files(root: Path) -> Iterator[Path]:
    """Readable-kind files under `root`, sorted; hidden entries skipped, symlinked folders not entered."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if not name.startswith(".") and path.suffix.lower() in _FOLDER_SUFFIXES and path.is_file():
                yield path


def _folder_candidates(location: str, ingest: IngestConfig) -> list[_Candidate]:
    root = Path(location)
    if not root.is_dir():
        raise FetchError("no such folder", source=location)
    candidates = []
    for path in _folder_files(root):
        try:
            stat = path.stat()
        except OSError:  # removed since it was listed: it is simply not there this time
            continue
        candidates.append(_Candidate(
            str(path), f"{stat.st_mtime_ns}:{stat.st_size}",
            lambda path=path: list(iter_inputs([str(path)], ingest)),
        ))
    return candidates


# --- the watcher -----------------------------------------------------------------------------

_WATCH_METADATA = MetaData()
SEEN = Table(
    "watch_seen",
    _WATCH_METADATA,
    Column("source", String, primary_key=True),
    Column("item", String, primary_key=True),
    Column("version", String, nullable=False),
    Column("seen_at", String, nullable=False),
    Column("error", Text),
)
"""Items already read, per source (kind:location); `error` keeps why an item could not be analysed."""


@dataclass(frozen=True)
class Failure:
    """Something that went wrong in a poll, naming the source (and the item, when there is one)."""

    source: str
    stage: str
    message: str
    item: str | None = None

    def __str__(self) -> str:
        where = f"{self.source} [{self.item}]" if self.item else self.source
        return f"{where}: {self.message} ({self.stage})"


@dataclass
class PollReport:
    """What one poll did."""

    polled: list[str] = field(default_factory=list)
    backing_off: list[str] = field(default_factory=list)
    """Sources skipped because they failed recently and wait out their back-off."""
    new_items: int = 0
    """Items not seen before (or changed), handed to the pipeline."""
    new_documents: int = 0
    new_events: int = 0
    failures: list[Failure] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class _State:
    next_due: float = 0.0
    failures: int = 0


class Watcher:
    """Polls the configured sources, sends new items through the pipeline into the store."""

    def __init__(
        self,
        config: WatchConfig,
        store: Store,
        pipeline: Pipeline,
        *,
        assess: Callable[[Store], list[Alert]] | None = None,
        on_alerts: Callable[[list[Alert]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`assess` returns the alerts that are new or escalated since it last ran (it keeps that
        state); it runs after a poll that stored something new, and `on_alerts` gets its result.
        `clock` and `sleep` schedule the polls (tests pass a fake pair).
        """
        self.config = config
        self.store = store
        self.pipeline = pipeline
        self.assess = assess
        self.on_alerts = on_alerts
        self._clock = clock
        self._sleep = sleep
        self._states = {_key(s): _State() for s in config.sources}
        try:
            SEEN.create(store.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the watch table: {exc}", source=store.url) from exc
        # No proxies from the environment (they would bypass the address check) and no kept-alive
        # connections (they are keyed by address, so a pinned TLS session could serve another name).
        self._client = httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def poll_once(self) -> PollReport:
        """Poll every source that is due and not backing off; then assess if anything was stored."""
        report = PollReport()
        now = self._clock()
        for source in self.config.sources:
            state = self._states[_key(source)]
            if now < state.next_due:
                if state.failures:
                    report.backing_off.append(source.location)
                continue
            report.polled.append(source.location)
            try:
                self._poll(source, report)
            except Exception as exc:  # a source never ends the watcher, whatever it sends
                state.failures += 1
                wait = min(self.config.backoff_max_s, source.interval_s * 2**state.failures)
                state.next_due = now + max(wait, source.interval_s)
                stage, message = ((exc.stage, exc.message) if isinstance(exc, BorderwatchError)
                                  else ("internal", f"{type(exc).__name__}: {exc}"))
                report.failures.append(Failure(source.location, stage, message))
            else:
                state.failures = 0
                state.next_due = now + source.interval_s
        if report.new_documents and self.assess is not None:
            try:
                report.alerts = self.assess(self.store)
            except BorderwatchError as exc:
                report.failures.append(Failure("assess", exc.stage, exc.message))
            if report.alerts and self.on_alerts is not None:
                self.on_alerts(report.alerts)
        return report

    def run(self, stop_after: int | None = None, *,
            on_report: Callable[[PollReport], None] | None = None) -> None:
        """Poll, then sleep until the next source is due; `stop_after` polls, or forever."""
        polls = 0
        while True:
            report = self.poll_once()
            polls += 1
            if on_report is not None:
                on_report(report)
            if stop_after is not None and polls >= stop_after:
                return
            due = min((s.next_due for s in self._states.values()), default=self._clock() + DEFAULT_INTERVAL_S)
            self._sleep(max(0.0, due - self._clock()))

    def _poll(self, source: WatchSource, report: PollReport) -> None:
        ingest = self.pipeline.config.ingest
        if source.kind == "folder":
            candidates = _folder_candidates(source.location, ingest)
        else:
            fetched = fetch(self._client, source.location, timeout_s=source.timeout_s,
                            max_bytes=source.max_bytes, allow_private=self.config.allow_private)
            if source.kind == "feed":
                candidates = _feed_candidates(fetched, source.location, ingest)
            else:
                candidates = [_page_candidate(fetched, source.location, ingest)]
        seen = _seen(self.store.engine, _key(source))
        new = [c for c in candidates if seen.get(c.key) != c.version]
        report.new_items += len(new)
        if new:
            self._process(source, new, report)

    def _process(self, source: WatchSource, new: list[_Candidate], report: PollReport) -> None:
        """Analyse and store the new items; mark each seen unless storing part of it failed."""
        loaded = [(candidate, item) for candidate in new for item in candidate.load()]
        errors: dict[str, str] = {}
        unsaved: set[str] = set()
        budget = self.pipeline.config.nlp.budget_s
        analyses = self.pipeline.analyse((item for _, item in loaded), budget_s=budget)
        for (candidate, _), analysis in zip(loaded, analyses, strict=True):
            if analysis.error is not None:
                errors[candidate.key] = analysis.error
                report.failures.append(Failure(source.location, "analyse", analysis.error, candidate.key))
                continue
            try:
                saved = self.store.save(analysis)
                assign_clusters(self.store, saved.doc_id)
            except StoreError as exc:  # the store may be back next time: read the item again then
                unsaved.add(candidate.key)
                report.failures.append(Failure(source.location, exc.stage, exc.message, candidate.key))
                continue
            except Exception as exc:  # an item that breaks storing is reported and seen
                errors[candidate.key] = f"{type(exc).__name__}: {exc}"
                report.failures.append(
                    Failure(source.location, "internal", errors[candidate.key], candidate.key))
                continue
            report.new_documents += saved.new_document
            report.new_events += saved.events_added
        _mark_seen(self.store.engine, _key(source),
                   [(c, errors.get(c.key)) for c in new if c.key not in unsaved])


def _key(source: WatchSource) -> str:
    return f"{source.kind}:{source.location}"


def _seen(engine: Engine, source: str) -> dict[str, str]:
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(SEEN.c.item, SEEN.c.version).where(SEEN.c.source == source))
            return {item: version for item, version in rows}
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the watch table: {exc}", source=source) from exc


def _mark_seen(engine: Engine, source: str, items: list[tuple[_Candidate, str | None]]) -> None:
    """Delete-then-insert in one transaction: a portable upsert on SQLite and PostgreSQL alike."""
    if not items:
        return
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with engine.begin() as connection:
            for candidate, error in items:
                connection.execute(delete(SEEN).where(SEEN.c.source == source, SEEN.c.item == candidate.key))
                connection.execute(insert(SEEN).values(source=source, item=candidate.key,
                                                       version=candidate.version, seen_at=stamp, error=error))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record seen items: {exc}", source=source) from exc
