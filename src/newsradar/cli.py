"""The `newsradar` command: run | worker | check-config | topics | eval | replay.

Every command validates its configuration the same way at start and exits with
status 2 and a message naming the file, the key and the problem when it is wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from newsradar.config import Settings, load_config, resolve_config_path
from newsradar.errors import BrokerError, ConfigError
from newsradar.models import Alert

cli = typer.Typer(
    name="newsradar",
    help="Watch news feeds; alert on AI-investment deals and layoffs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $NEWSRADAR_CONFIG or config/newsradar.yaml)."
    ),
]

log = logging.getLogger("newsradar")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"newsradar: {message}", err=True)
    return typer.Exit(code)


def _load(path: Path | None) -> Settings:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(f"invalid configuration: {exc}") from None


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if level != "DEBUG":
        # Faust, mode and aiokafka narrate every start-up step at INFO; keep their warnings.
        for noisy in ("faust", "mode", "aiokafka"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@cli.command("check-config")
def check_config(
    path: Annotated[Path | None, typer.Argument(help="Config file to validate.")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate a config file; exit non-zero naming the file, key and problem."""
    target = path or config
    settings = _load(target)
    shown = resolve_config_path(target)
    broker = ",".join(settings.kafka.bootstrap_servers or []) or "embedded (in-memory)"
    typer.echo(
        f"{shown}: OK ({len(settings.feeds)} feeds, {len(settings.rules)} rules, "
        f"{len(settings.channels)} channels, broker {broker})"
    )


def _serve(settings: Settings, *, allow_embedded: bool) -> None:
    """Start (or join) Kafka, create the topics, and run one Faust worker until stopped."""
    import faust

    from newsradar.app import Pipeline
    from newsradar.broker import EmbeddedBroker, ensure_topics, wait_for_kafka

    _setup_logging(settings.log_level)
    embedded: EmbeddedBroker | None = None
    bootstrap = settings.kafka.bootstrap_servers
    try:
        if not bootstrap:
            if not allow_embedded:
                raise _fail(
                    "kafka.bootstrap_servers is not set; `newsradar worker` needs a "
                    "Kafka cluster (use `newsradar run` for the embedded broker)"
                )
            embedded = EmbeddedBroker().start()
            bootstrap = [embedded.bootstrap]
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        pipeline = Pipeline(settings, bootstrap, embedded=embedded is not None)

        async def prepare() -> None:
            await wait_for_kafka(
                bootstrap, timeout=300, on_retry=pipeline.metrics.broker_unreachable.inc
            )
            await ensure_topics(
                bootstrap,
                pipeline.topic_names(),
                settings.kafka.partitions,
                settings.kafka.replication_factor,
            )

        loop.run_until_complete(prepare())
        log.info(
            "newsradar starting feeds=%d rules=%d metrics_url=http://%s:%d/metrics",
            len(settings.feeds),
            len(settings.rules),
            settings.metrics.host,
            settings.metrics.port,
        )
        worker = faust.Worker(
            pipeline.app,
            loop=loop,
            loglevel=settings.log_level,
            override_logging=False,
            redirect_stdouts=False,
        )
        worker.execute_from_commandline()
    except BrokerError as exc:
        raise _fail(str(exc), code=3) from None
    finally:
        if embedded is not None:
            embedded.stop()


@cli.command()
def run(config: ConfigOption = None) -> None:
    """Run the service; without kafka.bootstrap_servers, on an embedded in-memory broker."""
    _serve(_load(config), allow_embedded=True)


@cli.command()
def worker(config: ConfigOption = None) -> None:
    """Run one worker against the configured Kafka cluster (start several to scale out)."""
    _serve(_load(config), allow_embedded=False)


@cli.command()
def topics(config: ConfigOption = None) -> None:
    """Create newsradar's topics on the configured Kafka cluster (idempotent)."""
    from newsradar.app import all_topic_names
    from newsradar.broker import ensure_topics

    settings = _load(config)
    if not settings.kafka.bootstrap_servers:
        raise _fail("kafka.bootstrap_servers is not set (the embedded broker makes its own)")
    names = all_topic_names(settings.kafka)
    try:
        created = asyncio.run(
            ensure_topics(
                settings.kafka.bootstrap_servers,
                names,
                settings.kafka.partitions,
                settings.kafka.replication_factor,
            )
        )
    except BrokerError as exc:
        raise _fail(str(exc), code=3) from None
    typer.echo(json.dumps({"created": created, "topics": names}))


@cli.command("eval")
def eval_(
    path: Annotated[Path, typer.Argument(help="Labelled JSON Lines file (news_dev.jsonl shape).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    min_f1: Annotated[float, typer.Option(help="Floor for each topic's F1.")] = 0.0,
    min_org_f1: Annotated[float, typer.Option(help="Floor for organisation F1.")] = 0.0,
    min_deals: Annotated[float, typer.Option(help="Floor for the share of deals found.")] = 0.0,
    min_layoffs: Annotated[float, typer.Option(help="Floor for layoffs found.")] = 0.0,
    min_language_f1: Annotated[float, typer.Option(help="Floor for each language's F1.")] = 0.0,
) -> None:
    """Score the analysis on a labelled file; exit 1 when a figure is below its floor."""
    from newsradar.evaluation import evaluate, format_report

    if not path.is_file():
        raise _fail(f"{path}: file not found")
    report = evaluate(path)
    if as_json:
        typer.echo(report.model_dump_json())
    else:
        typer.echo(format_report(report))
    failures = report.failures(min_f1, min_org_f1, min_deals, min_layoffs, min_language_f1)
    for failure in failures:
        typer.echo(f"newsradar eval: below the floor: {failure}", err=True)
    if failures:
        raise typer.Exit(1)


@cli.command()
def replay(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines or RSS/Atom files, in order.")],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per decision.")] = False,
    deliver: Annotated[
        bool, typer.Option("--deliver", help="Also deliver through the configured channels.")
    ] = False,
) -> None:
    """Run the pipeline stages over past articles and print the alert decisions."""
    from newsradar.errors import NewsradarError
    from newsradar.replay import replay_files

    settings = _load(config)
    _setup_logging("WARNING")
    for path in files:
        if not path.is_file():
            raise _fail(f"{path}: file not found")
    try:
        alerts = replay_files(files, settings, as_json=as_json, write=typer.echo)
    except NewsradarError as exc:
        raise _fail(str(exc), code=1) from None
    if deliver and alerts:
        failed = asyncio.run(_deliver_all(settings, alerts))
        if failed:
            raise _fail(f"{failed} deliveries failed (see the log)", code=1)


async def _deliver_all(settings: Settings, alerts: list[Alert]) -> int:
    """Deliver alerts through their channels now; return how many deliveries failed."""
    from newsradar.alerts.delivery import Deliverer

    deliverer = Deliverer(settings.channels, settings.delivery)
    failed = 0
    try:
        for alert in alerts:
            for channel in alert.channels:
                result = await deliverer.deliver(alert, channel)
                if result.outcome == "failed":
                    failed += 1
                    log.error(
                        "delivery failed channel=%s ledger_key=%s reason=%s",
                        channel,
                        alert.ledger_key,
                        result.reason,
                    )
    finally:
        await deliverer.close()
    return failed


dlq_cli = typer.Typer(help="Inspect and replay the dead-letter topic (news.dlq).")
cli.add_typer(dlq_cli, name="dlq")


def _cluster_settings(config: Path | None) -> Settings:
    settings = _load(config)
    if not settings.kafka.bootstrap_servers:
        raise _fail(
            "kafka.bootstrap_servers is not set: the embedded broker keeps its dead letters in "
            "memory, inside the running `newsradar run`; point the config at the cluster"
        )
    return settings


@dlq_cli.command("list")
def dlq_list(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry.")] = False,
) -> None:
    """List the dead letters: stage, topic, key and reason."""
    from newsradar.dlq import list_dead_letters

    letters = asyncio.run(list_dead_letters(_cluster_settings(config)))
    for letter in letters:
        if as_json:
            typer.echo(letter.model_dump_json())
        else:
            typer.echo(
                f"{letter.failed_at.isoformat()} {letter.stage} {letter.topic} "
                f"key={letter.key} reason={letter.reason}"
            )
    if not as_json:
        typer.echo(f"{len(letters)} dead letters")


@dlq_cli.command("replay")
def dlq_replay(
    config: ConfigOption = None,
    stage: Annotated[
        list[str] | None,
        typer.Option("--stage", help="Stages to replay (default: deliver). Repeatable."),
    ] = None,
) -> None:
    """Re-send dead letters to their original topic, once (delivered alerts are never resent)."""
    from newsradar.dlq import replay_dead_letters

    outcome = asyncio.run(replay_dead_letters(_cluster_settings(config), stage or ["deliver"]))
    typer.echo(
        json.dumps({"read": outcome.read, "resent": outcome.resent, "skipped": outcome.skipped})
    )


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
