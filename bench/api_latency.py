"""Event query latency through the real server, on a store of 100,000 synthetic events.

Builds a SQLite store (migrated by `open_store`, rows bulk-inserted with SQLAlchemy Core: 18 event
types, ~40 countries, two years of dates, places with lat/lon/admin1 and a neighbour across the
nearest border, claimants and stances, 20,000 documents with URLs, evidence sentences made up from
templates), serves it, warms up, then times a shuffled mix of `/api/events` queries and
`/api/events/{id}` look-ups with httpx over one keep-alive connection. Prints p50/p95/p99 per query
kind and overall, and whether every p95 is under the 100 ms target.

`--server cli` (the default) launches the real `borderwatch serve --db STORE --port N` command as a
subprocess, exactly as a user starts it; `--server inprocess` runs `create_app` under uvicorn in a
thread of this process (needed by `--explain`, which also prints SQLite's query plan for the main
statement of each kind). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event as sa_event
from sqlalchemy import insert

from borderwatch.models import EVENT_TYPES
from borderwatch.store import open_store
from borderwatch.store.schema import (
    ClusterMemberRow,
    ClusterRow,
    DocumentRow,
    EventRow,
    UrlRow,
)
from borderwatch.web.app import create_app

TARGET_P95_MS = 100.0
DATA_VERSION = 3
"""Bumped when the synthetic rows change shape, so a kept `--db` store is rebuilt (2: proximity,
stances; 3: a month's start stored as its first day)."""
STANCES = ["asserted"] * 7 + ["alleged"] * 2 + ["denied"]

# ISO3, centre lat, centre lon, a few admin-1 codes and place names (made up where it doesn't matter).
COUNTRIES: list[tuple[str, float, float]] = [
    ("UKR", 49.0, 32.0), ("BLR", 53.7, 28.0), ("RUS", 55.7, 37.6), ("POL", 52.1, 19.4),
    ("LTU", 55.3, 23.9), ("LVA", 56.9, 24.6), ("EST", 58.6, 25.0), ("FIN", 61.9, 25.7),
    ("MDA", 47.4, 28.4), ("ROU", 45.9, 24.9), ("HUN", 47.2, 19.5), ("SVK", 48.7, 19.7),
    ("GEO", 42.3, 43.4), ("ARM", 40.1, 45.0), ("AZE", 40.1, 47.6), ("TUR", 39.0, 35.2),
    ("IRN", 32.4, 53.7), ("IRQ", 33.2, 43.7), ("SYR", 34.8, 39.0), ("ISR", 31.0, 34.9),
    ("LBN", 33.9, 35.9), ("JOR", 30.6, 36.2), ("EGY", 26.8, 30.8), ("SDN", 12.9, 30.2),
    ("ETH", 9.1, 40.5), ("SOM", 5.2, 46.2), ("KEN", -0.0, 37.9), ("COD", -4.0, 21.8),
    ("RWA", -1.9, 29.9), ("MLI", 17.6, -4.0), ("NER", 17.6, 8.1), ("NGA", 9.1, 8.7),
    ("AFG", 33.9, 67.7), ("PAK", 30.4, 69.3), ("IND", 20.6, 79.0), ("CHN", 35.9, 104.2),
    ("PRK", 40.3, 127.5), ("KOR", 35.9, 127.8), ("VEN", 6.4, -66.6), ("COL", 4.6, -74.3),
]
SECTORS = [None, "GOV", "MIL", "COP", "REB", "CVL"]
VERBS = {
    "AGREE": "agreed on", "CONSULT": "held talks about", "SUPPORT": "backed", "CONCEDE": "conceded",
    "COOPERATE": "coordinated", "AID": "delivered aid to", "RETREAT": "withdrew from",
    "REQUEST": "asked for", "ACCUSE": "accused", "REJECT": "rejected", "THREATEN": "threatened",
    "PROTEST": "protested against", "SANCTION": "imposed sanctions on", "MOBILIZE": "deployed troops near",
    "COERCE": "detained people in", "ASSAULT": "shelled", "FIGHT": "clashed with",
    "INVESTIGATE": "opened an inquiry into",
}
NOUNS = ["the border crossing", "a checkpoint", "the railway bridge", "an airfield", "the garrison",
         "a convoy", "the power plant", "a drone unit", "the river crossing", "an artillery battery",
         "the customs post", "a fuel depot", "the motorway", "a village", "the port"]
OUTLETS = [f"outlet{i}.example" for i in range(60)]
TEXT_TERMS = ["artillery", "checkpoint", "drone", "railway bridge", "convoy", "sanctions",
              "fuel depot", "garrison", "customs post", "airfield"]


def _iso3_places(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Twenty places per country, scattered around its centre, each in one of five admin-1 areas."""
    places: dict[str, list[dict[str, Any]]] = {}
    for code, lat, lon in COUNTRIES:
        places[code] = [
            {
                "name": f"{code.title()}town{i}", "geonameid": rng.randrange(10**6, 10**7),
                "lat": round(lat + rng.uniform(-3, 3), 4), "lon": round(lon + rng.uniform(-3, 3), 4),
                "country": code, "admin1": f"{code[:2]}.{i % 5:02d}", "precision": rng.choice([1, 2, 3]),
                "radius_km": rng.choice([1.0, 5.0, 25.0, 100.0]),
            }
            for i in range(20)
        ]
    return places


def build_store(path: Path, n_events: int, n_docs: int, seed: int) -> dict[str, Any]:
    """A migrated SQLite store at `path` filled with synthetic rows; returns what queries need."""
    rng = random.Random(seed)
    places = _iso3_places(rng)
    codes = [c for c, _, _ in COUNTRIES]
    end = date(2025, 6, 30)
    now = datetime.now(UTC)
    store = open_store(f"sqlite:///{path}")
    per_doc = [1] * n_docs
    for _ in range(n_events - n_docs):
        per_doc[rng.randrange(n_docs)] += 1
    docs: list[dict[str, Any]] = []
    urls: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for d in range(n_docs):
        doc_id = hashlib.sha256(f"doc{d}".encode()).hexdigest()
        home = rng.choice(codes)
        published = end - timedelta(days=rng.randrange(730))
        sentences: list[str] = []
        offset = 0
        for seq in range(per_doc[d]):
            type_ = rng.choice(EVENT_TYPES)
            actor = home if rng.random() < 0.6 else rng.choice(codes)
            recipient = rng.choice(codes)
            place = rng.choice(places[rng.choice([actor, recipient, home])]) if rng.random() < 0.85 else None
            noun = rng.choice(NOUNS)
            sentence = (f"{actor} forces {VERBS[type_]} {recipient} units at {noun}"
                        f"{' near ' + place['name'] if place else ''}, officials said on day {seq}.")
            evidence = [{"start": offset, "end": offset + len(sentence), "text": sentence}]
            sentences.append(sentence)
            offset += len(sentence) + 1
            roll = rng.random()
            day = published - timedelta(days=rng.randrange(3))
            if roll < 0.03:
                start, end_, gran = None, None, "unknown"
            elif roll < 0.10:  # a month is stored by its first day, as the extractor stores it
                start, end_, gran = day.replace(day=1).isoformat(), None, "month"
            else:
                start, end_, gran = day.isoformat(), day.isoformat(), "day"
            historical = rng.random() < 0.08
            claimant = ({"code": actor, "sector": "GOV", "text": f"{actor} officials"}
                        if rng.random() < 0.5 else None)
            stance = rng.choice(STANCES) if claimant else "asserted"
            # most located events lie near a border with one of a few neighbours (border pairs)
            neighbours = [c for c in codes[max(0, codes.index(place["country"]) - 2):][:5]
                          if c != place["country"]] if place else []
            proximity = ({"border_km": round(rng.uniform(0, 150), 1), "border_with": rng.choice(neighbours),
                          "sites": []} if place and rng.random() < 0.8 else None)
            actors = [{"code": actor, "sector": rng.choice(SECTORS), "text": f"{actor} forces"}]
            recipients = [{"code": recipient, "sector": rng.choice(SECTORS), "text": f"{recipient} units"}]
            events.append({
                "id": hashlib.sha256(f"{doc_id}:{seq}".encode()).hexdigest()[:32],
                "doc_id": doc_id, "seq": seq, "type": type_, "mode": None, "context": None,
                "trigger": VERBS[type_].split()[0], "actors": actors, "recipients": recipients,
                "actor_codes": f" {actor} ", "recipient_codes": f" {recipient} ",
                "place": place, "place_lat": place["lat"] if place else None,
                "place_lon": place["lon"] if place else None,
                "place_country": place["country"] if place else None,
                "place_admin1": place["admin1"] if place else None,
                "date_start": start, "date_end": end_, "granularity": gran,
                "historical": historical, "future": False, "hypothetical": False, "negated": False,
                "claim": {"claimant": claimant, "stance": stance, "outlet_voice": claimant is None},
                "stance": stance, "claimant_code": claimant["code"] if claimant else None,
                "evidence": evidence, "evidence_text": sentence, "proximity": proximity,
                "confidence": round(rng.uniform(0.3, 0.99), 2),
            })
        body = "\n".join(sentences)
        docs.append({
            "id": doc_id, "title": f"Report {d} from {home}", "outlet": rng.choice(OUTLETS),
            "language": "en", "published": published.isoformat() + "T08:00:00Z",
            "fetched_at": published.isoformat() + "T09:00:00Z", "raw_text": body, "clean_text": body,
            "removed": [], "created_at": now,
        })
        urls.append({"doc_id": doc_id, "url": f"https://{docs[-1]['outlet']}/news/{d}"})
        if rng.random() < 0.2:
            urls.append({"doc_id": doc_id, "url": f"https://mirror.example/{d}"})
    clusters: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in events[: len(events) // 5]:
        by_type[ev["type"]].append(ev)
    for type_, evs in by_type.items():
        for i in range(0, len(evs) - 2, 3):
            cid = hashlib.sha256(f"cluster:{type_}:{i}".encode()).hexdigest()[:32]
            clusters.append({"id": cid, "type": type_, "first_reported": None, "status": "single-source",
                             "outlets": [], "independent_outlets": 1, "updated_at": now})
            members += [{"event_id": ev["id"], "cluster_id": cid, "doc_id": ev["doc_id"]}
                        for ev in evs[i:i + 3]]
    with store.engine.begin() as conn:
        for table, rows in ((DocumentRow, docs), (UrlRow, urls), (EventRow, events),
                            (ClusterRow, clusters), (ClusterMemberRow, members)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[i:i + 5000])
    store.close()
    pairs = sorted({"-".join(sorted((ev["place_country"], ev["proximity"]["border_with"])))
                    for ev in events if ev["proximity"]})
    return {"version": DATA_VERSION, "event_ids": [ev["id"] for ev in events], "codes": codes,
            "pairs": pairs, "end": end}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def requests_mix(info: dict[str, Any], n: int, rng: random.Random) -> list[tuple[str, str, dict[str, Any]]]:
    """`n` (kind, path, params) requests, the kinds equally represented, shuffled."""
    end: date = info["end"]

    def window() -> tuple[str, str]:
        until = end - timedelta(days=rng.randrange(700))
        return (until - timedelta(days=30)).isoformat(), until.isoformat()

    makers = {
        "unfiltered": lambda: ("/api/events", {}),
        "type": lambda: ("/api/events", {"type": rng.choice(EVENT_TYPES)}),
        "two types": lambda: ("/api/events", {"type": rng.sample(EVENT_TYPES, 2)}),
        "country": lambda: ("/api/events", {"country": rng.choice(info["codes"])}),
        "date range": lambda: ("/api/events", dict(zip(("since", "until"), window(), strict=True))),
        "text": lambda: ("/api/events", {"text": rng.choice(TEXT_TERMS)}),
        "combined": lambda: ("/api/events", {"type": rng.choice(EVENT_TYPES),
                                             "country": rng.choice(info["codes"]),
                                             "since": window()[0], "historical": "true"}),
        "deep offset": lambda: ("/api/events", {"offset": rng.randrange(20_000, 80_000)}),
        "border pair": lambda: ("/api/events", {"border": rng.choice(info["pairs"])}),
        "claimant": lambda: ("/api/events", {"claimant": rng.choice(info["codes"])}),
        "stance": lambda: ("/api/events", {"stance": rng.choice(["alleged", "denied"])}),
        "page filters": lambda: ("/api/events", {"border": rng.choice(info["pairs"]),
                                                 "stance": rng.choice(["asserted", "alleged", "denied"]),
                                                 "since": window()[0]}),
        "by id": lambda: (f"/api/events/{rng.choice(info['event_ids'])}", {}),
    }
    kinds = list(makers)
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        path, params = makers[kind]()
        out.append((kind, path, params))
    rng.shuffle(out)
    return out


@contextmanager
def inprocess_server(path: Path) -> Iterator[tuple[str, Any]]:
    """`create_app` under uvicorn in a thread of this process; yields its URL and SQL engine."""
    app = create_app(f"sqlite:///{path}")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app.state.context.store.engine
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def borderwatch_command() -> str:
    """The `borderwatch` script beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("borderwatch")
    found = str(beside) if beside.exists() else shutil.which("borderwatch")
    if found is None:
        raise RuntimeError("the borderwatch command is not installed (pip install -e .)")
    return found


@contextmanager
def cli_server(path: Path, startup: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The real `borderwatch serve` in its own process, as a user runs it; fills `startup` with
    how long it took to answer and, at the end, the process's peak RSS."""
    port = free_port()
    command = [borderwatch_command(), "serve", "--db", str(path), "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                said = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"borderwatch serve exited with {process.returncode}: {said}")
            if time.monotonic() > deadline:
                raise RuntimeError("borderwatch serve did not answer within 120 s")
            try:
                if httpx.get(base + "/api/meta", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        startup["command"] = " ".join(["borderwatch", *command[1:]])
        startup["ready_s"] = round(time.perf_counter() - t0, 2)
        yield base, None
    finally:
        status = Path(f"/proc/{process.pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    startup["peak_rss_mib"] = round(int(line.split()[1]) / 1024)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=650, help="timed requests (default 650)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--db", type=Path, help="reuse (or create) the store here instead of a temp file")
    parser.add_argument("--server", choices=["cli", "inprocess"], default="cli",
                        help="launch `borderwatch serve` (default) or run create_app in this process")
    parser.add_argument("--explain", action="store_true",
                        help="print SQLite's plan per query kind (implies --server inprocess)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="in-process server: gc.freeze() after warm-up, to show how much of the tail "
                             "is gen-2 GC pauses (`borderwatch serve` freezes at start)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="bw-api-bench-")
    path = args.db or Path(tmp.name) / "store.sqlite"
    t0 = time.perf_counter()
    info_path = path.with_suffix(".bench.json")
    if args.explain:
        args.server = "inprocess"
    kept = json.loads(info_path.read_text()) if path.exists() and info_path.exists() else None
    if kept is not None and kept.get("version") != DATA_VERSION:
        print(f"rebuilding {path}: made by an older version of this benchmark", file=sys.stderr)
        path.unlink()
        kept = None
    if kept is not None:
        info = kept
        info["end"] = date.fromisoformat(info["end"])
        t0 = time.perf_counter()
        open_store(f"sqlite:///{path}").close()  # migrate a store built by an older schema
        built = f"reused (opened and migrated in {time.perf_counter() - t0:.1f} s)"
    else:
        info = build_store(path, args.events, args.docs, args.seed)
        info_path.write_text(json.dumps({**info, "end": info["end"].isoformat()}))
        built = f"built in {time.perf_counter() - t0:.1f} s"
    size_mb = path.stat().st_size / 2**20

    statements: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    current: list[str] = [""]

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if current[0]:
            statements[current[0]].append((statement, parameters))

    startup: dict[str, Any] = {}
    serving = inprocess_server(path) if args.server == "inprocess" else cli_server(path, startup)
    rng = random.Random(args.seed + 1)
    timings: dict[str, list[float]] = defaultdict(list)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        with serving as (base, engine), httpx.Client(base_url=base, timeout=60) as client:
            for _kind, p, params in requests_mix(info, args.warmup, rng):
                client.get(p, params=params).raise_for_status()
            if args.gc_freeze:
                gc.collect()
                gc.freeze()
            for kind, p, params in requests_mix(info, args.requests, rng):
                start = time.perf_counter()
                response = client.get(p, params=params)
                elapsed = (time.perf_counter() - start) * 1000
                response.raise_for_status()
                timings[kind].append(elapsed)
            if args.explain:
                sa_event.listen(engine, "before_cursor_execute", record)
                seen: set[str] = set()
                for kind, p, params in requests_mix(info, 27, rng):
                    if kind in seen:
                        continue
                    seen.add(kind)
                    current[0] = kind
                    client.get(p, params=params).raise_for_status()
                current[0] = ""
                sa_event.remove(engine, "before_cursor_execute", record)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1

    every = [t for ts in timings.values() for t in ts]
    rows = {kind: {"n": len(ts), "p50": percentile(ts, 0.5), "p95": percentile(ts, 0.95),
                   "p99": percentile(ts, 0.99), "max": max(ts)} for kind, ts in timings.items()}
    rows["overall"] = {"n": len(every), "p50": percentile(every, 0.5), "p95": percentile(every, 0.95),
                       "p99": percentile(every, 0.99), "max": max(every)}
    worst = max((r["p95"], k) for k, r in rows.items() if k != "overall")
    meets = rows["overall"]["p95"] < TARGET_P95_MS and worst[0] < TARGET_P95_MS
    if args.json:
        print(json.dumps({"events": args.events, "store_mb": round(size_mb, 1), "server": args.server,
                          **startup, "latency_ms": rows, "target_p95_ms": TARGET_P95_MS, "meets": meets},
                         indent=2))
    else:
        print(f"machine   {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, "
              f"{platform.platform()}, load average {load:.2f} at start")
        print(f"store     SQLite {path.name}: {args.events:,} events, {args.docs:,} documents, "
              f"{size_mb:.0f} MiB, {built}")
        if args.server == "cli":
            print(f"server    `{startup['command']}` in its own process: answered after "
                  f"{startup['ready_s']} s, peak RSS {startup.get('peak_rss_mib', '?')} MiB")
        else:
            print("server    create_app under uvicorn in a thread of this process")
        print(f"requests  {len(every)} timed after {args.warmup} warm-up, one keep-alive httpx client, "
              "127.0.0.1, limit 100 per page\n")
        print(f"{'kind':<13} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind, r in sorted(rows.items(), key=lambda kv: kv[0] == "overall"):
            print(f"{kind:<13} {r['n']:>4} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
                  f"{r['max']:>8.1f}")
        print(f"\np95 overall {rows['overall']['p95']:.1f} ms, "
              f"slowest kind {worst[1]} at p95 {worst[0]:.1f} ms: "
              f"{'meets' if meets else 'misses'} the target of p95 < {TARGET_P95_MS:.0f} ms for every kind")
    if args.explain:
        with engine.connect() as conn:
            for kind, stmts in statements.items():
                statement, parameters = stmts[0]
                print(f"\n--- {kind}: {statement.split(chr(10))[0][:60]}... ({len(stmts)} statements)")
                raw = conn.connection.driver_connection
                for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters):
                    print("   ", row[-1])
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
