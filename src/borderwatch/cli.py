"""The `borderwatch` command line.

Exit codes: 0 all inputs processed, 1 some inputs failed (each listed with its reason),
2 usage error (typer's convention for bad options and arguments), 3 internal error (a bug: an
exception no stage expected, reported in one line instead of a traceback).
"""

from __future__ import annotations

import gc
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from borderwatch.config import Config, default_db_url, load_config
from borderwatch.errors import BorderwatchError, ConfigError, IngestError
from borderwatch.ingest import Metadata, document_from_record, iter_inputs, read_jsonl

INTERNAL_ERROR = 3
"""Exit code of an unexpected exception: callers can tell a bug from inputs that failed (1)."""


class _App(typer.Typer):
    """The command line as a program: an exception no stage expected ends it with `INTERNAL_ERROR`
    and one line naming it, never a traceback (tests call the command itself, and see the bug)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:  # the last line of defence, by design
            err.print(f"[red]internal error:[/red] {escape(type(exc).__name__)}: {escape(str(exc)[:500])}")
            sys.exit(INTERNAL_ERROR)


app = _App(
    name="borderwatch",
    help="Early-warning picture of military activity near borders, from open news reporting.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML configuration file.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database: a SQLite file path or an SQLAlchemy URL (default: the user's data dir)."
    ),
]


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _db_url(db: str | None, config: Config) -> str:
    if db is None:
        return config.db_url or default_db_url()
    return db if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _print_json(data: Any) -> None:
    """JSON to stdout, unescaped Unicode: the machine-readable form of a listing."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _fail_list(failures: list[tuple[str, str]]) -> None:
    if failures:
        err.print(f"[red]{len(failures)} input(s) failed:[/red]")
        for source, reason in failures:
            err.print(f"  {escape(source)}: {escape(reason)}")


def _warn(document: Any) -> None:
    """What was not taken as given in a document that did not fail (see `Document.warnings`)."""
    for warning in document.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(document.source)}: {escape(warning)}")


def _exit_code(failures: int, internal: int) -> int:
    return INTERNAL_ERROR if internal else 1 if failures else 0


@app.command()
def run(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, or - for stdin.")],
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    published: Annotated[str | None, typer.Option(help="Publication date (ISO 8601) for all inputs.")] = None,
    url: Annotated[str | None, typer.Option(help="Source URL for all inputs.")] = None,
    title: Annotated[str | None, typer.Option(help="Title for all inputs.")] = None,
) -> None:
    """Ingest articles into the store and print a summary of the events found."""
    from borderwatch.assess.cluster import assign_clusters
    from borderwatch.pipeline import Pipeline, internal_error
    from borderwatch.store import open_store

    config = _config(config_file)
    try:
        overrides = Metadata(url=url, title=title, published=published)
    except IngestError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    items = list(iter_inputs(paths, config.ingest, overrides=overrides, stdin=sys.stdin))
    try:
        store = open_store(_db_url(db, config))
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    pipeline = Pipeline(config)
    failures: list[tuple[str, str]] = []
    rows: list[tuple[str, Any]] = []
    new_docs = new_events = internal = 0
    with _progress() as progress:
        task = progress.add_task("analysing", total=len(items))
        for analysis in pipeline.analyse(items):
            progress.advance(task)
            _warn(analysis.document)
            internal += analysis.internal
            if analysis.error:
                failures.append(
                    (analysis.document.source, analysis.error.removeprefix(f"{analysis.document.source}: "))
                )
                continue
            try:
                result = store.save(analysis)
            except BorderwatchError as exc:
                failures.append((analysis.document.source, str(exc)))
                continue
            except Exception as exc:  # a bug storing one document; the others are still stored
                failures.append((analysis.document.source, internal_error(exc)))
                internal += 1
                continue
            new_docs += result.new_document
            new_events += result.events_added
            try:
                assign_clusters(store, result.doc_id)
            except BorderwatchError as exc:
                failures.append((analysis.document.source, str(exc)))
            except Exception as exc:  # stored, but clustering it hit a bug: named, and the run goes on
                failures.append((analysis.document.source, internal_error(exc)))
                internal += 1
            rows.append((analysis.document.title or analysis.document.source, analysis))
    store.close()
    table = Table(title="Events found", show_lines=False)
    for column in ("document", "type", "actors → recipients", "date", "claim", "flags"):
        table.add_column(column)
    for name, analysis in rows:
        for event in analysis.events:
            flags = [f for f in ("historical", "future", "hypothetical", "negated") if getattr(event, f)]
            claim = event.claim
            claim_text = claim.stance + (f" by {claim.claimant.code}" if claim.claimant else "")
            table.add_row(
                escape(name[:40]),
                event.type,
                escape(",".join(a.code for a in event.actors) or "?")
                + " → "
                + escape(",".join(a.code for a in event.recipients) or "-"),
                f"{event.date.start or '?'} ({event.date.granularity})",
                escape(claim_text),
                ",".join(flags),
            )
    out.print(table)
    out.print(
        f"{len(items) - len(failures)} document(s) analysed, {new_docs} new, "
        f"{new_events} new event(s) stored in {escape(store.url)}"  # password hidden
    )
    _fail_list(failures)
    if failures:
        raise typer.Exit(_exit_code(len(failures), internal))


@app.command()
def extract(
    input: Annotated[str, typer.Argument(help="JSON Lines input; - or absent for stdin.")] = "-",
    output: Annotated[Path | None, typer.Option("--out", help="Output file (default stdout).")] = None,
    config_file: ConfigOpt = None,
) -> None:
    """Read JSON Lines, write one extraction per line (the DESIGN §3 contract); no database."""
    from borderwatch.models import Analysis, Document
    from borderwatch.pipeline import Pipeline

    config = _config(config_file)
    if input == "-":
        handle = getattr(sys.stdin, "buffer", None) or io.BytesIO(
            sys.stdin.read().encode("utf-8", "surrogateescape"))
        name = "stdin"
    else:
        try:
            handle = open(input, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            err.print(f"[red]error:[/red] {escape(input)}: {escape(exc.strerror or str(exc))}")
            raise typer.Exit(2) from exc
        name = input
    ids: dict[str, object] = {}

    def records() -> Any:
        for record_id, item in read_jsonl(handle, name, config.ingest):
            ids[item.source or ""] = record_id
            yield item

    pipeline = Pipeline(config)
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    failures: list[tuple[str, str]] = []
    internal = 0
    try:
        for analysis in pipeline.analyse(records()):
            line_id = analysis.document.input_id
            _warn(analysis.document)
            internal += analysis.internal
            if analysis.error:
                source = analysis.document.source
                failures.append((source, analysis.error.removeprefix(f"{source}: ")))
                line_id = line_id if line_id is not None else ids.get(source)
                analysis = Analysis(
                    Document(source=source, raw_text="", input_id="" if line_id is None else str(line_id)),
                    error=analysis.error,
                )
            sink.write(json.dumps(analysis.to_contract(), ensure_ascii=False) + "\n")
    finally:
        if output:
            sink.close()
        if input != "-":
            handle.close()
    if failures:
        err.print(f"[yellow]{len(failures)} line(s) failed; see their error field[/yellow]")
        for source, reason in failures:
            err.print(f"  {escape(source)}: {escape(reason)}")
        raise typer.Exit(_exit_code(len(failures), internal))


@app.command()
def batch(
    paths: Annotated[
        list[str], typer.Argument(help="JSON Lines files, folders, WARC archives (.warc, .warc.gz).")
    ],
    db: DbOpt = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Parquet file of the events (one row per event).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Local Dask worker processes.")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of an existing Dask scheduler (tcp://HOST:8786)."),
    ] = None,
    partition_size: Annotated[
        int, typer.Option("--partition-size", min=1, help="Documents per task sent to a worker.")
    ] = 32,
    prefilter: Annotated[
        bool | None,
        typer.Option(
            "--prefilter/--no-prefilter",
            help="Parse only sentences that can hold an event (default: [prefilter] enabled).",
        ),
    ] = None,
    config_file: ConfigOpt = None,
) -> None:
    """Analyse many documents on Dask workers into the store and/or a Parquet file; resumable."""
    from dataclasses import replace

    from borderwatch.batch import BatchRunner, connect, iter_batch_inputs

    config = _config(config_file)
    if prefilter is not None:
        config = replace(config, prefilter=replace(config.prefilter, enabled=prefilter))
    db_url = _db_url(db, config) if db is not None or output is None else None
    client, cluster = connect(workers, scheduler)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed} documents"), TimeElapsedColumn(),
            console=err, transient=True, disable=not err.is_terminal,
        ) as progress:
            task = progress.add_task("analysing", total=None)
            runner = BatchRunner(client, config, db_url=db_url, parquet=output, partition_size=partition_size)
            summary = runner.run(
                iter_batch_inputs(paths, config), progress=lambda n: progress.advance(task, n)
            )
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    written = []
    if db_url is not None:
        written.append(f"{summary.new_documents} new document(s), {summary.new_events} new event(s) stored")
    if output is not None:
        written.append(f"{summary.events_written} event(s) written to {escape(str(output))}")
    out.print(f"{summary.documents - len(summary.failures)} document(s) analysed; " + "; ".join(written))
    _fail_list(summary.failures)
    if summary.failures:
        raise typer.Exit(_exit_code(len(summary.failures), summary.internal))


@app.command("eval")
def eval_(
    gold: Annotated[Path, typer.Argument(help="NAME.gold.jsonl")],
    pred: Annotated[
        Path | None, typer.Argument(help="Predictions; default: run extract on NAME.input.jsonl")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    config_file: ConfigOpt = None,
) -> None:
    """Score extraction output against a gold file."""
    from borderwatch.evaluate import read_jsonl, score

    try:
        gold_records = read_jsonl(gold)
        pred_records = _predict_for(gold, _config(config_file)) if pred is None else read_jsonl(pred)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    report = score(gold_records, pred_records, gold_name=str(gold))
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        _print_report(report.to_dict())


def _predict_for(gold: Path, config: Config) -> dict[str, dict[str, Any]]:
    from borderwatch.errors import EvalError
    from borderwatch.pipeline import Pipeline

    name = gold.name.removesuffix(".gold.jsonl")
    source = gold.with_name(f"{name}.input.jsonl")
    if not source.exists():
        raise EvalError(f"no predictions given and {source.name} not found beside it", source=str(gold))
    lines = source.read_text(encoding="utf-8").splitlines()
    items: list[Any] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise IngestError("each line must be a JSON object", source=f"{source}:{number}")
            items.append(document_from_record(record, f"{source}:{number}", config.ingest))
        except (json.JSONDecodeError, BorderwatchError) as exc:
            items.append(
                exc
                if isinstance(exc, BorderwatchError)
                else IngestError(str(exc), source=f"{source}:{number}")
            )
    result: dict[str, dict[str, Any]] = {}
    with _progress() as progress:
        task = progress.add_task(f"extracting {source.name}", total=len(items))
        for analysis in Pipeline(config).analyse(items):
            progress.advance(task)
            record = analysis.to_contract()
            result[record["id"]] = record
    return result


def _print_report(report: dict[str, Any]) -> None:
    out.print(
        f"[bold]{escape(report['gold'])}[/bold]: {report['documents']} documents, "
        f"{report['predicted']} predicted, {report['errors']} errors"
    )
    types = report.get("event_types")
    if types:
        table = Table(title=f"Event types ({types['documents']} documents)")
        for column in ("type", "precision", "recall", "F1", "tp", "fp", "fn"):
            table.add_column(column, justify="right" if column != "type" else "left")
        for name, m in types["per_type"].items():
            table.add_row(
                name,
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['f1']:.3f}",
                str(m["tp"]),
                str(m["fp"]),
                str(m["fn"]),
            )
        m = types["micro"]
        table.add_row(
            "[bold]micro[/bold]",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"[bold]{m['f1']:.3f}[/bold]",
            str(m["tp"]),
            str(m["fp"]),
            str(m["fn"]),
        )
        out.print(table)
        out.print(
            f"macro F1 {types['macro_f1']:.3f}; actor agreement "
            f"{types['actor_agreement']} over {types['actor_pairs']} matched events"
        )
    for key, label in (
        ("event_found", "Event found (any listed type)"),
        ("places", "Toponyms"),
        ("event_places", "Event places"),
        ("event_dates", "Event dates"),
        ("clean_text", "Main text (4-word shingles)"),
        ("articles", "Whole articles (current events, chrome, evidence)"),
    ):
        section = report.get(key)
        if section:
            parts = ", ".join(f"{k} {v}" for k, v in section.items())
            out.print(f"[bold]{label}[/bold]: {parts}")


def _open_store_or_exit(db: str | None, config: Config) -> Any:
    from borderwatch.store import open_store

    try:
        return open_store(_db_url(db, config))
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


TypeOpt = Annotated[list[str] | None, typer.Option("--type", help="Event type (repeatable).")]
CountryOpt = Annotated[str | None, typer.Option(help="ISO3 code of an actor, recipient or place country.")]
SinceOpt = Annotated[str | None, typer.Option(help="Events starting on or after this ISO date.")]
UntilOpt = Annotated[str | None, typer.Option(help="Events starting on or before this ISO date.")]
TextOpt = Annotated[str | None, typer.Option(help="Substring of the evidence text.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
HistOpt = Annotated[bool, typer.Option("--historical/--no-historical", help="Include background events.")]
BorderOpt = Annotated[str | None, typer.Option(
    help="Border pair such as BLR-UKR (either order): the place's country and its nearest neighbour.")]
ClaimantOpt = Annotated[str | None, typer.Option(help="Who claims the event: ISO3 code or group slug.")]
StanceOpt = Annotated[str | None, typer.Option(help="How it is claimed: asserted, alleged or denied.")]


def _query(
    db: str | None,
    config_file: Path | None,
    *,
    type_: list[str] | None,
    country: str | None,
    limit: int | None,
    **filters: Any,
) -> list[Any]:
    """`Store.query_events` for the options `events` and `export` share (`filters` by its names).

    The filters are checked before the store is opened, so a bad one is a usage error (exit 2)
    and whatever the query itself raises is the store failing (exit 1).
    """
    _check_filters(**filters)
    config = _config(config_file)
    store = _open_store_or_exit(db, config)
    try:
        return store.query_events(
            types=[t.upper() for t in type_] if type_ else None,
            country=country.upper() if country else None,
            limit=limit,
            **filters,
        )
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        store.close()


def _check_filters(*, since: str | None = None, until: str | None = None, border: str | None = None,
                   stance: str | None = None, **_others: Any) -> None:
    """Refuse a malformed filter with exit 2, by the store's own rules (`Store.query_events`)."""
    from borderwatch.models import Stance
    from borderwatch.store.database import border_pair, start_day

    try:
        for day in (since, until):
            if day is not None:
                start_day(day)
        if border is not None:
            border_pair(border)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    stances = get_args(Stance)
    if stance is not None and stance not in stances:
        err.print(f"[red]error:[/red] not a stance: {escape(repr(stance))} ({', '.join(stances)})")
        raise typer.Exit(2)


@app.command()
def events(
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    type_: TypeOpt = None,
    country: CountryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    historical: HistOpt = False,
    border: BorderOpt = None,
    claimant: ClaimantOpt = None,
    stance: StanceOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Query the events in the store."""
    found = _query(db, config_file, type_=type_, country=country, since=since, until=until, text=text,
                   include_historical=historical, border=border, claimant=claimant, stance=stance,
                   limit=limit)
    if as_json:
        _print_json([e.to_dict() for e in found])
        return
    table = Table(title=f"{len(found)} event(s)")
    for column in ("date", "type", "actors → recipients", "claim", "evidence"):
        table.add_column(column)
    for e in found:
        record = e.to_dict()
        actors = ",".join(a["code"] for a in record["actors"]) or "?"
        recipients = ",".join(a["code"] for a in record["recipients"]) or "-"
        claim = record.get("claim") or {}
        claimant = (claim.get("claimant") or {}).get("code")
        evidence = " … ".join(x["text"] for x in e.evidence)[:160]
        table.add_row(
            (record.get("date") or {}).get("start") or "?",
            record["type"],
            escape(f"{actors} → {recipients}"),
            escape(claim.get("stance", "") + (f" by {claimant}" if claimant else "")),
            escape(evidence),
        )
    out.print(table)


@app.command()
def alerts(
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the alert rules over the store and list the alerts, latest first."""
    from borderwatch.assess import assess_store

    config = _config(config_file)
    store = _open_store_or_exit(db, config)
    try:
        found = assess_store(store, config)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    finally:
        store.close()
    found.sort(key=lambda a: (a.as_of, a.id), reverse=True)
    if as_json:
        _print_json([a.to_contract() for a in found])
        return
    table = Table(title=f"{len(found)} alert(s)", show_lines=True)
    for column in ("as of", "severity", "rule", "border", "explanation", "evidence"):
        table.add_column(column)
    for alert in found:
        evidence = "\n".join(f"• {e.text[:200]}" for e in alert.evidence[:3])
        table.add_row(
            alert.as_of,
            alert.severity,
            alert.rule,
            alert.border or "-",
            escape(alert.explanation),
            escape(evidence),
        )
    out.print(table)


@app.command()
def clusters(
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List clusters: one happening reported by many outlets, with its first report and status."""
    config = _config(config_file)
    store = _open_store_or_exit(db, config)
    try:
        found = sorted(store.clusters(), key=lambda c: (c.first_reported or "", c.id), reverse=True)
        sources = {c.id: store.cluster_sources(c.id) for c in found}
    finally:
        store.close()
    if as_json:
        _print_json([{**c.to_json(), "sources": sources[c.id]} for c in found])
        return
    table = Table(title=f"{len(found)} cluster(s)")
    for column in ("first reported", "type", "status", "outlets", "events", "documents"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.first_reported or "?",
            c.type,
            c.status,
            f"{c.independent_outlets}: " + escape(", ".join(c.outlets)[:60]),
            str(len(c.event_ids)),
            str(len(c.doc_ids)),
        )
    out.print(table)


@app.command()
def watch(
    config_file: Annotated[Path, typer.Option("--config", help="TOML file with a [watch] table.")],
    db: DbOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every source once, then stop.")] = False,
) -> None:
    """Poll feeds, folders and URLs; analyse new items; deliver new or escalated alerts."""
    from borderwatch.assess import fresh_alerts
    from borderwatch.deliver import deliver
    from borderwatch.pipeline import Pipeline
    from borderwatch.watch import Watcher, load_watch_config

    config = _config(config_file)
    try:
        watch_config = load_watch_config(config_file)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    store = _open_store_or_exit(db, config)

    def on_alerts(alerts: list[Any]) -> None:
        for alert in alerts:
            out.print(
                f"[bold]{alert.severity.upper()}[/bold] {escape(alert.as_of)} "
                f"{escape(alert.border or '-')}: {escape(alert.explanation)}"
            )
        report = deliver(alerts, watch_config.delivery)
        for channel, reason in report.failed.items():
            err.print(f"[red]delivery to {escape(channel)} failed:[/red] {escape(reason)}")

    def on_report(report: Any) -> None:
        err.print(
            f"polled {len(report.polled)} source(s): {report.new_items} new item(s), "
            f"{report.new_documents} new document(s), {report.new_events} new event(s)"
        )
        for failure in report.failures:
            err.print(f"  [red]{escape(str(failure))}[/red]")

    try:
        with Watcher(
            watch_config,
            store,
            Pipeline(config),
            assess=lambda s: fresh_alerts(s, config),
            on_alerts=on_alerts,
        ) as watcher:
            watcher.run(stop_after=1 if once else None, on_report=on_report)
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        store.close()


def _region_shapes() -> Any:
    """Admin-1 polygons from the gazetteer for GeoJSON export (points when it is not installed)."""
    from shapely.geometry import mapping

    from borderwatch.geo.gazetteer import Gazetteer

    try:
        gazetteer = Gazetteer.open()
    except BorderwatchError:
        err.print("[yellow]gazetteer not installed: regions exported as points[/yellow]")
        return None

    def geometry(place: Any) -> dict[str, Any] | None:
        if place.precision == 2 and place.admin1:
            shape = gazetteer.shape(f"a1:{place.admin1}")
            return mapping(shape) if shape is not None else None
        return None

    return geometry


@app.command()
def export(
    format: Annotated[
        str, typer.Option("--format", help="csv, jsonl, geojson or parquet (needs --out).")
    ] = "jsonl",
    output: Annotated[Path | None, typer.Option("--out", help="Output file (default stdout).")] = None,
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    type_: TypeOpt = None,
    country: CountryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    historical: HistOpt = False,
    border: BorderOpt = None,
    claimant: ClaimantOpt = None,
    stance: StanceOpt = None,
) -> None:
    """Export events from the store as CSV, JSON Lines, GeoJSON or Parquet."""
    from borderwatch.export import export_events, export_parquet

    if format not in ("csv", "jsonl", "geojson", "parquet"):
        err.print(f"[red]error:[/red] unknown format {escape(format)!r}; use csv, jsonl, geojson or parquet")
        raise typer.Exit(2)
    if format == "parquet" and output is None:
        err.print("[red]error:[/red] --format parquet writes a binary file: give --out FILE")
        raise typer.Exit(2)
    found = _query(db, config_file, type_=type_, country=country, since=since, until=until, text=text,
                   include_historical=historical, border=border, claimant=claimant, stance=stance,
                   limit=None)
    if format == "parquet" and output is not None:
        result = export_parquet(found, output)
        err.print(f"exported {result.written} event(s)")
        return
    sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    geometry = _region_shapes() if format == "geojson" else None
    try:
        result = export_events(found, format, sink, geometry)  # type: ignore[arg-type]
    finally:
        if output:
            sink.close()
    err.print(
        f"exported {result.written} event(s)"
        + (f", {result.skipped} without coordinates left out" if result.skipped else "")
    )


data_app = typer.Typer(
    help="The gazetteer: build it once from the installed packages (offline afterwards), or describe it.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command("install")
def data_install(
    node_modules: Annotated[
        Path, typer.Option("--from", help="node_modules folder holding the pinned npm data packages.")
    ] = Path("node_modules"),
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when it is up to date.")] = False,
) -> None:
    """Build the gazetteer into the user's data directory; skipped when built from the same packages."""
    from borderwatch.geo.build import build, up_to_date
    from borderwatch.geo.gazetteer import default_path

    path = default_path()
    try:
        if not force and up_to_date(path, node_modules):
            err.print(f"gazetteer up to date: {escape(str(path))} (--force rebuilds it)")
            return
        with err.status("building the gazetteer (about half a minute)"):
            report = build(node_modules, path)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for stale in path.parent.glob("gazetteer-*.sqlite"):
        if stale != path:
            stale.unlink()
    counts = report.counts
    err.print(
        f"gazetteer built in {report.seconds:.0f} s: {escape(str(path))} ({report.size_bytes / 1e6:.0f} MB), "
        f"{counts['city']} places, {counts['admin1']} admin-1 regions, {counts['country']} countries, "
        f"{counts['names']} names"
    )
    if report.unmapped:
        err.print(f"country shapes without an ISO code, left out: {escape(', '.join(report.unmapped))}")


@data_app.command("info")
def data_info() -> None:
    """Say where the gazetteer is, what it was built from and what it holds."""
    from borderwatch.geo.gazetteer import Gazetteer

    try:
        gazetteer = Gazetteer.open()
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    with gazetteer:
        meta = gazetteer.meta
        table = Table(title="Gazetteer", show_header=False)
        table.add_row("path", escape(str(gazetteer.path)))
        table.add_row("size", f"{gazetteer.path.stat().st_size / 1e6:.0f} MB")
        table.add_row("format", meta["version"])
        table.add_row("built", f"{meta['built_at']} in {meta['build_seconds']} s")
        for package, version in json.loads(meta["sources"]).items():
            table.add_row(f"source {escape(package)}", version)
        for kind, count in json.loads(meta["counts"]).items():
            table.add_row(kind, str(count))
        table.add_row("left out", escape(", ".join(json.loads(meta["unmapped_countries"])) or "-"))
        out.print(table)


@app.command()
def serve(
    db: DbOpt = None,
    config_file: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the bearer token for POST /api/ingest "
                          "(ingest is disabled without one)."),
    ] = None,
) -> None:
    """Serve the map page and the read-only JSON API over the store (FastAPI + uvicorn)."""
    import os

    import uvicorn

    from borderwatch.web import create_app

    config = _config(config_file)
    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        err.print(f"[red]error:[/red] environment variable {escape(token_env)} is not set or empty")
        raise typer.Exit(2)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    try:
        web = create_app(
            _db_url(db, config), config, ingest_token=token,
            allowed_hosts=["127.0.0.1", "localhost", "[::1]"] if loopback else None,
        )
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    from borderwatch.store import safe_url

    err.print(f"serving {escape(safe_url(_db_url(db, config)))} on http://{escape(host)}:{port}/"
              + ("" if token else " (ingest disabled)"))
    # The models, gazetteer and app are long-lived: moving them out of the collector's reach
    # removes the full-collection pauses that otherwise put ~5% of queries over 100 ms.
    gc.freeze()
    uvicorn.run(web, host=host, port=port, log_level="warning")


@app.command()
def report(
    border: Annotated[str, typer.Option("--border", help="Border pair as two ISO3 codes, e.g. BLR-UKR.")],
    since: Annotated[str, typer.Option("--since", help="First day of the period (ISO date).")],
    output: Annotated[Path, typer.Option("--out", help="Folder to write index.html, map.png, timeline.png.")],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day of the period (default: the latest event's day).")
    ] = None,
    db: DbOpt = None,
    config_file: ConfigOpt = None,
) -> None:
    """Write a static briefing for one border: HTML with the alerts and events, a map and a timeline."""
    from borderwatch.report import parse_border, write_report

    try:
        border = parse_border(border)
    except BorderwatchError as exc:
        raise typer.BadParameter(str(exc), param_hint="--border") from exc
    config = _config(config_file)
    store = _open_store_or_exit(db, config)
    try:
        index = write_report(store, config, border, since, until, output)
    except BorderwatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        # A bad --since/--until is a usage error; a store or drawing failure is a failure.
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from exc
    finally:
        store.close()
    err.print(f"briefing written: {escape(str(index))}")
