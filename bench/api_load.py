"""Load on the real `borderwatch serve`: 50 concurrent clients for 60 s, hostile parameters mixed in,
an authenticated ingest now and then, and an unauthenticated 1 GB upload at the end.

The store is `api_latency.py`'s synthetic one (10,000 events by default). The server runs in its
own process, as a user starts it, with an ingest token; this process runs the clients as
threads. Reported: requests, p50/p95/p99 per kind, errors (a 5xx, a connection failure, or a
response without the security headers), whether each hostile query got a 4xx, and the server's
resident memory before and after the 1 GB upload (refused from its headers, never read).
Not a test: numbers depend on the machine.

    PYTHONPATH=src python bench/api_load.py [--clients 50] [--seconds 60] [--events 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx

from api_latency import borderwatch_command, build_store, free_port, percentile

TOKEN = "load-bench-token"
HOSTILE = [
    "/api/events?offset=9223372036854775808", "/api/places?offset=9223372036854775808",
    "/api/events?limit=100000000", "/api/events?since=2024-99-99", "/api/events?type=BOGUS",
    "/api/events?border=" + "A" * 4000, "/api/events?stance=perhaps", "/api/clusters?offset=-5",
    "/api/events?text=" + "x" * 1000, "/api/events?claimant=%00",
]
READS = [
    "/api/events", "/api/events?type=MOBILIZE", "/api/events?since=2024-01-01&until=2024-06-30",
    "/api/events?border=BLR-UKR", "/api/events?limit=20&offset=200", "/api/places?limit=500",
    "/api/clusters?limit=50", "/api/meta", "/api/events?unknown=field",
]
ARTICLE = {"text": "Belarusian troops moved armour towards the Ukrainian border near Mazyr on Monday, "
                   "residents said. Kyiv accused Minsk of massing forces.", "published": "2024-08-26"}
SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BW_LOAD_TOKEN": TOKEN}
    process = subprocess.Popen([borderwatch_command(), "serve", "--db", str(db), "--port", str(port),
                                "--token-env", "BW_LOAD_TOKEN"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/meta", timeout=5).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("borderwatch serve did not answer within 120 s")


class Tally:
    """What every client saw, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.hostile_not_4xx: list[str] = []

    def record(self, kind: str, path: str, response: httpx.Response | None, seconds: float,
               problem: str | None = None) -> None:
        with self.lock:
            self.latency[kind].append(seconds * 1000)
            if response is None:
                self.errors.append(f"{path}: {problem}")
            elif response.status_code >= 500 or not all(h in response.headers for h in SECURITY):
                self.errors.append(f"{path}: {response.status_code}")
            elif kind == "hostile" and not 400 <= response.status_code < 500:
                self.hostile_not_4xx.append(f"{path}: {response.status_code}")


def client(base: str, until: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as http:
        while time.monotonic() < until:
            roll = rng.random()
            kind, path = ("hostile", rng.choice(HOSTILE)) if roll < 0.2 else ("read", rng.choice(READS))
            start = time.perf_counter()
            try:
                response: httpx.Response | None = http.get(path)
                problem = None
            except httpx.HTTPError as exc:
                response, problem = None, f"{type(exc).__name__}: {exc}"
            tally.record(kind, path, response, time.perf_counter() - start, problem)


def ingester(base: str, until: float, tally: Tally) -> None:
    n = 0
    with httpx.Client(base_url=base, timeout=120) as http:
        while time.monotonic() < until:
            n += 1
            body = {**ARTICLE, "text": f"{ARTICLE['text']} Report {n}."}
            start = time.perf_counter()
            try:
                response: httpx.Response | None = http.post(
                    "/api/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
                problem = None
            except httpx.HTTPError as exc:
                response, problem = None, f"{type(exc).__name__}: {exc}"
            tally.record("ingest", "/api/ingest", response, time.perf_counter() - start, problem)
            time.sleep(2.0)


def gigabyte() -> Iterator[bytes]:
    block = b" " * (1 << 20)
    for _ in range(1024):
        yield block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.sqlite"
        build_store(db, args.events, max(1, args.events // 5), seed=12)
        process, base = serve(db)
        try:
            tally = Tally()
            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client, args=(base, until, i, tally))
                       for i in range(args.clients)]
            threads.append(threading.Thread(target=ingester, args=(base, until, tally)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            before = rss_mib(process.pid)
            start = time.perf_counter()
            try:
                refused = httpx.post(f"{base}/api/ingest", content=gigabyte(), timeout=60,
                                     headers={"Content-Length": str(1 << 30)})
                answer = f"{refused.status_code} in {time.perf_counter() - start:.2f} s"
            except httpx.HTTPError as exc:
                answer = f"{type(exc).__name__} after {time.perf_counter() - start:.2f} s"
            after = rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    total = sum(len(v) for v in tally.latency.values())
    print(f"{args.clients} clients + 1 ingester for {args.seconds:g} s: {total} requests "
          f"({total / args.seconds:.0f}/s), errors {len(tally.errors)}, "
          f"hostile not 4xx {len(tally.hostile_not_4xx)}")
    for kind, values in sorted(tally.latency.items()):
        print(f"  {kind:8} n={len(values):6}  p50 {percentile(values, 0.5):7.1f} ms  "
              f"p95 {percentile(values, 0.95):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms")
    for problem in (tally.errors + tally.hostile_not_4xx)[:10]:
        print(f"  ! {problem}")
    print(f"unauthenticated 1 GB ingest: {answer}; server RSS {before:.0f} MiB before, {after:.0f} MiB after")


if __name__ == "__main__":
    main()
