"""Run the generated hostile corpus through `borderwatch extract` and `run`, one case per process.

The spaCy pipeline and gazetteer are loaded once; each command then runs in a forked child, so a
case's time, CPU time (what a busy machine inflates least) and peak memory are its own, and a
stall or a blow-up cannot hide the next case.
A child over the time or memory limit is killed and counted. Outcomes: `ok` (exit 0), `refused`
(exit 1 or 2 with the input named on stderr), `unnamed` (exit 1/2 without the name), `crash`
(a traceback or the internal-error exit code), `timeout`, `memory`.

For thousands of cases (`--sampled` sizes across the range, `--group N`), one child runs N
commands one after another, each still its own CLI invocation timed on its own, so the store's
migrations and the sentence embedder load once per group instead of once per case; memory is
then the child's resident size while the command ran (an upper bound: what earlier commands
left counts too). A stall kills the child; the stalled command is counted and the rest of the
group goes on in a new child. `--extract jsonl` runs `extract` on JSON Lines cases only.

    PYTHONPATH=src python bench/hostile_run.py [--variants N] [--seed S] [--max-bytes B] [--json OUT]
        [--sampled] [--group N] [--extract all|jsonl]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import select
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


def _child(commands: list[tuple[list[str], str]], report: int) -> None:
    """Run CLI commands one after another in this (forked) process; after each, write its
    outcome to `report` as one JSON line."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    for args, stderr_path in commands:
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 2)
        os.close(fd)
        os.write(report, json.dumps(_command(args)).encode() + b"\n")
    os._exit(0)


def _command(args: list[str]) -> dict[str, object]:
    """One CLI command in this process: its exit code (or traceback), time, CPU time, peak RSS."""
    from borderwatch.cli import app

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
    peak = usage.ru_maxrss / 1024
    outcome["max_rss_mb"] = peak
    outcome["peak_in_command"] = peak > peak_before
    return outcome


def run_group(commands: list[tuple[list[str], str]], limit_s: float,
              limit_mb: float) -> list[dict[str, object]]:
    """Each (args, case name) run in forked children, one after another; the outcomes in order."""
    results: list[dict[str, object]] = []
    while len(results) < len(commands):
        results.extend(_run_some(commands[len(results):], limit_s, limit_mb))
    return results


def _run_some(commands: list[tuple[list[str], str]], limit_s: float,
              limit_mb: float) -> list[dict[str, object]]:
    """Fork one child for `commands`, watch each command's time and the child's memory; the
    outcomes up to the first command the child did not finish (counted as killed or crashed)."""
    paths = []
    for _ in commands:
        with tempfile.NamedTemporaryFile(suffix=".stderr", delete=False) as handle:
            paths.append(handle.name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child([(args, path) for (args, _name), path in zip(commands, paths, strict=True)], write)
    os.close(write)
    child = psutil.Process(pid)
    start = time.monotonic()
    peak = 0.0
    killed = None
    results: list[dict[str, object]] = []
    buffer = b""
    while len(results) < len(commands):
        ready, _, _ = select.select([read], [], [], 0.02)
        if ready:
            chunk = os.read(read, 65536)
            if not chunk:
                break  # the child ended before reporting every command
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                i = len(results)
                results.append(_classify(json.loads(line), commands[i][1], paths[i], peak))
                start, peak = time.monotonic(), 0.0
            continue
        with contextlib.suppress(psutil.Error):
            peak = max(peak, child.memory_info().rss / 2**20)
        if time.monotonic() - start > limit_s:
            killed = "timeout"
        elif peak > limit_mb:
            killed = "memory"
        if killed:
            os.kill(pid, signal.SIGKILL)
            break
    os.waitpid(pid, 0)
    os.close(read)
    if len(results) < len(commands):
        i = len(results)
        stderr = Path(paths[i]).read_text(errors="replace")
        results.append({"outcome": killed or "crash", "seconds": time.monotonic() - start,
                        "max_rss_mb": peak, "stderr": stderr[-500:]})
    for path in paths:
        os.unlink(path)
    return results


def run_case(args: list[str], name: str, limit_s: float, limit_mb: float) -> dict[str, object]:
    """Fork, run `args`, watch the child's time and memory; the outcome with its measurements."""
    return run_group([(args, name)], limit_s, limit_mb)[0]


def _classify(result: dict[str, object], name: str, stderr_path: str, peak: float) -> dict[str, object]:
    """The outcome of a command the child reported, with the larger of the two memory readings
    (the child's own peak counts only when it was reached during this command)."""
    stderr = Path(stderr_path).read_text(errors="replace")
    code = result["code"]
    if code == 0:
        result["outcome"] = "ok"
    elif code in (1, 2):
        result["outcome"] = "refused" if Path(name).stem in stderr else "unnamed"
    else:
        result["outcome"] = "crash"
    own = float(result["max_rss_mb"]) if result.pop("peak_in_command") else 0.0  # type: ignore[arg-type]
    result["max_rss_mb"] = max(own, peak)
    result["stderr"] = stderr[-500:]
    return result


def _commands(case: Case, path: Path, work: Path, wrap: bool = True) -> list[tuple[str, list[str]]]:
    """`run` on the file as given; `extract` on it as JSON Lines (with `wrap`, a text or page that
    decodes as UTF-8 is wrapped into one record), so the analysis is also timed without the
    store's clustering."""
    db = work / f"{path.stem}.sqlite"
    commands = [("run", ["run", str(path), "--db", str(db)])]
    lines = path
    if wrap and case.suffix in (".txt", ".html"):
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


def documents(case: Case) -> int:
    """Documents in a case: one per line of JSON Lines, else one."""
    return max(1, case.data.count(b"\n")) if case.suffix == ".jsonl" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--max-bytes", type=int, default=None, help="Leave out larger cases.")
    parser.add_argument("--only", default=None, help="Only cases whose kind is this.")
    parser.add_argument("--limit-s", type=float, default=30.0)
    parser.add_argument("--limit-mb", type=float, default=2048.0)
    parser.add_argument("--sampled", action="store_true", help="Case sizes across the range.")
    parser.add_argument("--group", type=int, default=1, help="Cases run by one child in turn.")
    parser.add_argument("--extract", choices=("all", "jsonl"), default="all",
                        help="`extract` on every case (texts and pages wrapped) or on JSON Lines only.")
    parser.add_argument("--json", type=Path, default=None, help="Write every outcome here.")
    args = parser.parse_args()

    from borderwatch.config import Config
    from borderwatch.pipeline import Pipeline

    Pipeline(Config())  # load spaCy and the gazetteer once, before forking
    chosen = [case for case in cases(args.variants, args.seed, max_bytes=args.max_bytes, sampled=args.sampled)
              if not args.only or case.kind == args.only]
    results: list[dict[str, object]] = []
    started = time.monotonic()
    for first in range(0, len(chosen), max(1, args.group)):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            planned = []
            for case in chosen[first : first + max(1, args.group)]:
                path = work / case.name
                path.write_bytes(case.data)
                for command, argv in _commands(case, path, work, wrap=args.extract == "all"):
                    planned.append((case, command, argv))
            outcomes = run_group([(argv, case.name) for case, _, argv in planned],
                                 args.limit_s, args.limit_mb)
        for (case, command, _), result in zip(planned, outcomes, strict=True):
            result.update(case=case.name, kind=case.kind, bytes=len(case.data), command=command,
                          documents=documents(case))
            results.append(result)
            cpu = float(result.get("cpu_s", 0))
            print(f"{result['outcome']:8} {result['seconds']:7.2f}s {cpu:6.2f}cpu "
                  f"{result['max_rss_mb']:7.0f}MB {command:7} {case.name} ({len(case.data)} B)",
                  flush=True)
    report(results, chosen, time.monotonic() - started)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def report(results: list[dict[str, object]], chosen: list[Case], seconds: float) -> None:
    """The summary: outcomes, documents, the slowest and largest runs under 200 KB."""
    outcomes = Counter(str(r["outcome"]) for r in results)
    small = [r for r in results if int(r["bytes"]) < 200_000]
    print(f"\n{len(chosen)} cases ({sum(documents(c) for c in chosen)} documents, "
          f"{sum(len(c.data) for c in chosen) / 1e6:.1f} MB), {len(results)} runs in {seconds / 60:.0f} min: "
          f"{dict(outcomes)}")
    for command in ("run", "extract"):
        mine = [r for r in small if r["command"] == command]
        if mine:
            slowest = max(float(r["seconds"]) for r in mine)
            cpu = max(float(r.get("cpu_s", 0)) for r in mine)
            print(f"{command}: {len(mine)} runs under 200 KB ({sum(int(r['documents']) for r in mine)} "
                  f"documents), max {slowest:.2f}s (CPU {cpu:.2f}s), "
                  f"over 10 s: {sum(float(r['seconds']) > 10 for r in mine)}, "
                  f"max RSS {max(float(r['max_rss_mb']) for r in mine):.0f} MB")
    print(f"max time {max(float(r['seconds']) for r in results):.2f}s "
          f"(under 200 KB: {max((float(r['seconds']) for r in small), default=0):.2f}s); "
          f"max RSS {max(float(r['max_rss_mb']) for r in results):.0f} MB; "
          f"runs under 200 KB over 10 s: {sum(float(r['seconds']) > 10 for r in small)}")


if __name__ == "__main__":
    main()
