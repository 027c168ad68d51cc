"""Run the generated hostile corpus through `borderwatch extract` and `run`, one case per process.

The spaCy pipeline and gazetteer are loaded once; each command then runs in a forked child, so a
case's time, CPU time (what a busy machine inflates least) and peak memory are its own, and a
stall or a blow-up cannot hide the next case.
A child over the time or memory limit is killed and counted. Outcomes: `ok` (exit 0), `refused`
(exit 1 or 2 with the input named on stderr), `unnamed` (exit 1/2 without the name), `crash`
(a traceback or the internal-error exit code), `timeout`, `memory`.

    PYTHONPATH=src python bench/hostile_run.py [--variants N] [--seed S] [--max-bytes B] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from hostile_corpus import Case, cases

INTERNAL_EXIT = 3
"""The CLI's exit code for an unexpected internal error (README: exit codes)."""


def _child(args: list[str], report: int, stderr_path: str) -> None:
    """Run one CLI command in this (forked) process and write its outcome to `report`."""
    from borderwatch.cli import app

    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    outcome: dict[str, object] = {}
    try:
        app(args, prog_name="borderwatch")
        outcome["code"] = 0
    except SystemExit as exc:
        outcome["code"] = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # the point is to count them
        outcome["code"] = "traceback"
        outcome["traceback"] = "".join(traceback.format_exception(exc))[-2000:]
    outcome["seconds"] = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome["cpu_s"] = usage.ru_utime + usage.ru_stime - cpu_before
    outcome["max_rss_mb"] = usage.ru_maxrss / 1024
    os.write(report, json.dumps(outcome).encode())
    os._exit(0)


def run_case(args: list[str], name: str, limit_s: float, limit_mb: float) -> dict[str, object]:
    """Fork, run `args`, watch the child's time and memory; the outcome with its measurements."""
    read, write = os.pipe()
    with tempfile.NamedTemporaryFile(suffix=".stderr", delete=False) as handle:
        stderr_path = handle.name
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(args, write, stderr_path)
    os.close(write)
    child = psutil.Process(pid)
    start = time.monotonic()
    peak = 0.0
    killed = None
    while True:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        with contextlib.suppress(psutil.Error):
            peak = max(peak, child.memory_info().rss / 2**20)
        if time.monotonic() - start > limit_s:
            killed = "timeout"
        elif peak > limit_mb:
            killed = "memory"
        if killed:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.02)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    stderr = Path(stderr_path).read_text(errors="replace")
    os.unlink(stderr_path)
    if killed or not data:
        return {"outcome": killed or "crash", "seconds": time.monotonic() - start, "max_rss_mb": peak,
                "stderr": stderr[-500:]}
    result = json.loads(data)
    code = result["code"]
    if code == 0:
        result["outcome"] = "ok"
    elif code in (1, 2):
        result["outcome"] = "refused" if Path(name).stem in stderr else "unnamed"
    else:
        result["outcome"] = "crash"
    result["max_rss_mb"] = max(float(result["max_rss_mb"]), peak)
    result["stderr"] = stderr[-500:]
    return result


def _commands(case: Case, path: Path, work: Path) -> list[tuple[str, list[str]]]:
    """`run` on the file as given; `extract` on it as JSON Lines (a text or page that decodes as
    UTF-8 is wrapped into one record), so the analysis is also timed without the store's
    clustering."""
    db = work / f"{path.stem}.sqlite"
    commands = [("run", ["run", str(path), "--db", str(db)])]
    lines = path
    if case.suffix in (".txt", ".html"):
        try:
            text = case.data.decode("utf-8")
        except UnicodeDecodeError:
            return commands
        lines = work / f"{path.stem}.as.jsonl"
        key = "html" if case.suffix == ".html" else "text"
        lines.write_text(json.dumps({"id": case.name, key: text}) + "\n", encoding="utf-8")
    if lines.suffix == ".jsonl":
        commands.append(("extract", ["extract", str(lines), "--out", str(work / f"{path.stem}.out")]))
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--max-bytes", type=int, default=None, help="Leave out larger cases.")
    parser.add_argument("--only", default=None, help="Only cases whose kind is this.")
    parser.add_argument("--limit-s", type=float, default=30.0)
    parser.add_argument("--limit-mb", type=float, default=2048.0)
    parser.add_argument("--json", type=Path, default=None, help="Write every outcome here.")
    args = parser.parse_args()

    from borderwatch.config import Config
    from borderwatch.pipeline import Pipeline

    Pipeline(Config())  # load spaCy and the gazetteer once, before forking
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for case in cases(args.variants, args.seed, max_bytes=args.max_bytes):
            if args.only and case.kind != args.only:
                continue
            path = work / case.name
            path.write_bytes(case.data)
            for command, argv in _commands(case, path, work):
                result = run_case(argv, case.name, args.limit_s, args.limit_mb)
                result.update(case=case.name, kind=case.kind, bytes=len(case.data), command=command)
                results.append(result)
                cpu = float(result.get("cpu_s", 0))
                print(f"{result['outcome']:8} {result['seconds']:7.2f}s {cpu:6.2f}cpu "
                      f"{result['max_rss_mb']:7.0f}MB {command:7} {case.name} ({len(case.data)} B)",
                      flush=True)
    outcomes = Counter(str(r["outcome"]) for r in results)
    small = [r for r in results if int(r["bytes"]) < 200_000]
    print(f"\n{len({r['case'] for r in results})} cases, {len(results)} runs: {dict(outcomes)}")
    for command in ("run", "extract"):
        mine = [r for r in small if r["command"] == command]
        if mine:
            slowest = max(float(r["seconds"]) for r in mine)
            cpu = max(float(r.get("cpu_s", 0)) for r in mine)
            print(f"{command}: {len(mine)} runs under 200 KB, max {slowest:.2f}s (CPU {cpu:.2f}s), "
                  f"over 10 s: {sum(float(r['seconds']) > 10 for r in mine)}, "
                  f"max RSS {max(float(r['max_rss_mb']) for r in mine):.0f} MB")
    print(f"max time {max(float(r['seconds']) for r in results):.2f}s "
          f"(under 200 KB: {max(float(r['seconds']) for r in small):.2f}s); "
          f"max RSS {max(float(r['max_rss_mb']) for r in results):.0f} MB; "
          f"runs under 200 KB over 10 s: {sum(float(r['seconds']) > 10 for r in small)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
