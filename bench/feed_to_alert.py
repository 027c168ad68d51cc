"""Latency from a new feed item to its alert: the early-warning promise, measured end to end.

A local HTTP server (127.0.0.1) serves an RSS feed; a warm `Watcher` (pipeline and gazetteer
loaded, as in a running `borderwatch watch`) polls it, fetches the new item, analyses, stores,
clusters and assesses it, and hands the alert over. The figure is the wall time from the start
of the poll to the alert, per new item, over several rounds. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from borderwatch.assess import fresh_alerts
from borderwatch.config import Config
from borderwatch.models import Alert
from borderwatch.pipeline import Pipeline
from borderwatch.store import open_store
from borderwatch.watch import WatchConfig, Watcher, WatchSource

TOWNS = ["Mazyr", "Yelsk", "Rechytsa", "Kalinkavichy", "Valuyki", "Klintsy", "Belgorod", "Kursk"]


class Feed:
    """The feed's current items, changed by the benchmark between polls."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def xml(self) -> bytes:
        now = format_datetime(datetime.now(UTC))
        entries = "".join(
            f"<item><guid>{escape(guid)}</guid><title>Sighting</title><pubDate>{now}</pubDate>"
            f"<description>{escape(text)}</description></item>" for guid, text in self.items)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Sightings</title>'
                f"{entries}</channel></rss>").encode()


def serve(feed: Feed) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = feed.xml()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    feed = Feed()
    server = serve(feed)
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    config = Config()
    watch_config = WatchConfig(sources=(WatchSource(kind="feed", location=url, interval_s=0),),
                               allow_private=True)
    received: list[tuple[float, list[Alert]]] = []
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        pipeline = Pipeline(config)
        watcher = Watcher(watch_config, store, pipeline, assess=lambda s: fresh_alerts(s, config),
                          on_alerts=lambda alerts: received.append((time.perf_counter(), alerts)))
        with watcher:
            watcher.poll_once()  # warm: empty feed
            latencies = []
            for i in range(args.rounds):
                town = TOWNS[i % len(TOWNS)]
                feed.items.append((f"item-{i}", f"Military trucks moving west near {town} on day {i}."))
                received.clear()
                start = time.perf_counter()
                watcher.poll_once()
                if received:
                    latencies.append(received[0][0] - start)
        store.close()
    server.shutdown()
    if not latencies:
        print("no alert was raised")
        return 1
    print(f"new feed item → alert over {len(latencies)} of {args.rounds} rounds on 127.0.0.1: "
          f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s (target < 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
