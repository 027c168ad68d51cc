"""Back-test the alerts on a dated series of sighting lines: how early would an analyst be warned?

The series (JSON Lines with `id`, `text`, `published`; default: samples/sightings.input.jsonl) goes
through `borderwatch run` into a fresh SQLite store, then `borderwatch alerts --json` is read back.
For each border it prints the first medium or high alert, its rule and its lead time before
`--before` (default 2022-02-24, the day of the invasion), and the sightings the series holds per
border pair, so a border with sightings but no alert (deep inside a country) shows as quiet.
Both commands run as a user would run them; nothing is called in-process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEVERE = ("medium", "high")


def borderwatch(*args: str) -> str:
    """Run the CLI of the interpreter running this script; its stdout, or exit with its error."""
    command = [sys.executable, "-c", "from borderwatch.cli import app; app()", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def first_alerts(alerts: list[dict], before: date) -> dict[str, dict]:
    """The earliest medium or high alert per border (by `as_of`, the date of its evidence)."""
    first: dict[str, dict] = {}
    for alert in sorted(alerts, key=lambda a: (a["as_of"], a["id"])):
        border = alert.get("border")
        if border and alert["severity"] in SEVERE and border not in first and alert["as_of"]:
            first[border] = alert
    return {b: a for b, a in first.items() if date.fromisoformat(a["as_of"][:10]) <= before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("series", nargs="?", type=Path, default=ROOT / "samples" / "sightings.input.jsonl")
    parser.add_argument("--before", type=date.fromisoformat, default=date(2022, 2, 24))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'backtest.sqlite'}"
        borderwatch("run", str(args.series), "--db", db)
        alerts = json.loads(borderwatch("alerts", "--json", "--db", db) or "[]")
        events = json.loads(borderwatch("events", "--type", "MOBILIZE", "--json", "--limit", "100000",
                                        "--db", db) or "[]")
    per_border: Counter[str] = Counter()
    for event in events:
        place, proximity = event.get("place") or {}, event.get("proximity") or {}
        day = ((event.get("date") or {}).get("start") or "")[:10]
        if day and day <= args.before.isoformat() and place.get("country") and proximity.get("border_with"):
            per_border["-".join(sorted((place["country"], proximity["border_with"])))] += 1
    first = first_alerts(alerts, args.before)
    print(f"{len(events)} MOBILIZE events, {len(alerts)} alerts; per border, the sightings dated on or "
          f"before {args.before} and the first medium/high alert:")
    print(f"{'border':10} {'sightings':>9} {'first alert':>11} {'lead (days)':>11}  rule")
    for border in sorted(set(per_border) | set(first)):
        alert = first.get(border)
        if alert is None:
            print(f"{border:10} {per_border[border]:>9} {'-':>11} {'-':>11}  (quiet)")
            continue
        day = date.fromisoformat(alert["as_of"][:10])
        print(f"{border:10} {per_border[border]:>9} {day.isoformat():>11} {(args.before - day).days:>11}"
              f"  {alert['rule']} ({alert['severity']})")


if __name__ == "__main__":
    main()
