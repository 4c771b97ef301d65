"""Articles per second through the whole pipeline on the embedded broker, next to a pass-through.

What runs, all in one run on one embedded Tansu broker started here:

1. Baseline: a minimal Faust app (one agent that forwards every message of
   `<prefix>news.articles` to another topic, no work), as one worker process with
   the same Faust settings as newsradar (acks=all, memory store, same partitions).
2. newsradar: `newsradar.app.Pipeline` as one worker process, started the way
   `newsradar run` starts it on its embedded broker (topics created first), with
   no feeds, rules that match every deal and layoff, and the log channel.

For each, N articles are produced with aiokafka as fast as possible, and the time
from the first send to the last output message (its broker CreateTime, stamped by
the worker's producer) gives articles/s. For newsradar the run ends when every
article's Enriched message, every expected Event (one per deal or layoff report,
counted beforehand with the same `analyze` on the same texts) and every alert is
out; throughput counts articles in over the time until the last of these.

Articles are the dev file's titles and summaries (read at run time), each with a
unique id and URL. Each repetition of the file is dated 40 days before the previous
one, and `events.window_days` is 30, so every repetition's deals and layoffs are new
events again: each repetition makes as many alert decisions as the file itself
(about one article in three), instead of only the first one.

3. Latency: newsradar again, with articles sent at a steady 200 articles/s; per
   article, time from its send to its Enriched message, to its Event (the decision)
   and, when there is one, to its Alert. Percentiles p50/p99.

    python benchmarks/bench_pipeline.py [--json] [--quick] [--articles N] [--profile FILE]

`--profile FILE` runs the newsradar worker under py-spy (if installed) during the
throughput run (the experiment's run when `--experiment` is given) and writes a flame
graph SVG (collapsed stacks if FILE ends in .txt).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, dev_texts, emit, load_average, machine, percentile
from experiments import EXPERIMENTS
from experiments import apply as apply_experiments
from experiments import check as check_experiment

PARTITIONS = 4
ROUND_DAYS = 40
BASE_PUBLISHED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
RULES = [
    {"name": "all-deals", "kind": "deal", "channels": ["log"]},
    {"name": "all-layoffs", "kind": "layoff", "channels": ["log"]},
]


# -- the workers (child processes) -------------------------------------------------------


def _settings(bootstrap: str, prefix: str, metrics_port: int) -> Any:
    from newsradar.config import parse_config

    return parse_config(
        {
            "kafka": {
                "bootstrap_servers": bootstrap,
                "partitions": PARTITIONS,
                "app_id": f"{prefix}app",
                "topic_prefix": prefix,
            },
            "metrics": {"port": metrics_port},
            "feeds": [],
            "rules": RULES,
            "channels": {"log": {"type": "log"}},
            "events": {"window_days": 30},
            "log_level": "WARNING",
        }
    )


def pipeline_worker(bootstrap: str, prefix: str, metrics_port: int) -> None:
    """One newsradar worker, as `newsradar run` starts it on its embedded broker."""
    import faust

    from newsradar.app import Pipeline
    from newsradar.broker import ensure_topics
    from newsradar.cli import _setup_logging

    settings = _settings(bootstrap, prefix, metrics_port)
    _setup_logging(settings.log_level)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pipeline = Pipeline(settings, [bootstrap], embedded=True)
    loop.run_until_complete(ensure_topics([bootstrap], pipeline.topic_names(), PARTITIONS, 1))
    worker = faust.Worker(
        pipeline.app, loop=loop, loglevel="WARNING", override_logging=False, redirect_stdouts=False
    )
    worker.execute_from_commandline()


def passthrough_worker(bootstrap: str, prefix: str, metrics_port: int) -> None:
    """One Faust worker that forwards news.articles to passthrough.out, doing nothing else."""
    import faust

    import newsradar.app as app_module
    from newsradar.broker import ensure_topics

    cap = getattr(app_module, "_cap_consumer_fetch_wait", None)
    if cap is not None:  # the same consumer fetch cap newsradar applies on the embedded broker
        cap(50)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = faust.App(
        f"{prefix}app",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=PARTITIONS,
        datadir=tempfile.mkdtemp(prefix="newsradar-bench-"),
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        broker_session_timeout=6.0,
        broker_rebalance_timeout=2.0,
        broker_heartbeat_interval=1.0,
    )
    source = app.topic(
        f"{prefix}news.articles",
        key_serializer="raw",
        value_serializer="raw",
        partitions=PARTITIONS,
    )
    out = app.topic(
        f"{prefix}passthrough.out",
        key_serializer="raw",
        value_serializer="raw",
        partitions=PARTITIONS,
    )

    @app.agent(source, name="forward")
    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await out.send(key=event.key, value=event.value)

    loop.run_until_complete(
        ensure_topics(
            [bootstrap], [f"{prefix}news.articles", f"{prefix}passthrough.out"], PARTITIONS, 1
        )
    )
    worker = faust.Worker(
        app, loop=loop, loglevel="WARNING", override_logging=False, redirect_stdouts=False
    )
    worker.execute_from_commandline()


class WorkerProcess:
    """A worker child process (this script with a hidden flag); stopped on exit."""

    def __init__(
        self,
        kind: str,
        bootstrap: str,
        prefix: str,
        profile: str | None = None,
        experiments: list[str] | None = None,
    ) -> None:
        from newsradar.broker import free_port

        self.argv = [
            sys.executable,
            __file__,
            "--worker",
            kind,
            bootstrap,
            prefix,
            str(free_port()),
            ",".join(experiments or []) or "-",
        ]
        self.profile = profile
        self.log_path = Path(tempfile.gettempdir()) / f"newsradar-bench-{prefix}{kind}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WorkerProcess:
        argv = self.argv
        if self.profile:
            fmt = "raw" if self.profile.endswith(".txt") else "flamegraph"
            argv = [
                "py-spy",
                "record",
                "-o",
                self.profile,
                "--format",
                fmt,
                "--rate",
                "200",
                "--",
                *argv,
            ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if self.profile else signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if not self.profile:
            self.log_path.unlink(missing_ok=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the worker so far (None under py-spy: another pid)."""
        if self.process is None or self.profile:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def runqueue_wait_seconds(self) -> float | None:
        """Time the worker's main thread was runnable but waited for a CPU (other
        processes had it), from /proc schedstat; None under py-spy."""
        if self.process is None or self.profile:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/schedstat").read_text().split()
        except OSError:
            return None
        return int(fields[1]) / 1e9

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


# -- articles ------------------------------------------------------------------------------


def make_articles(run: str, count: int, start: int = 0) -> list[tuple[bytes, bytes, int]]:
    """(key, value, dev item index) for `count` unique articles built from the dev file."""
    from newsradar.models import Article, utcnow

    items = dev_texts()
    out = []
    for n in range(start, start + count):
        index = n % len(items)
        item = items[index]
        repetition = n // len(items)
        url = f"https://bench.example/{run}/{n}"
        article = Article(
            id=hashlib.blake2b(url.encode(), digest_size=16).hexdigest(),
            feed_id="bench",
            feed_url="https://bench.example/feed",
            source=item.get("source") or "bench",
            url=url,
            title=item.get("title") or "",
            summary=item.get("summary") or "",
            published=BASE_PUBLISHED
            - timedelta(days=ROUND_DAYS * repetition)
            + timedelta(seconds=index),
            fetched=utcnow(),
        )
        out.append((article.id.encode(), article.to_bytes(), index))
    return out


def reports_per_item() -> list[int]:
    """How many reports (deals with both parties, layoffs with a company) each dev item gives."""
    from newsradar.events import reports_from
    from newsradar.fingerprint import FingerprintIndex, enrich
    from newsradar.models import Article, utcnow
    from newsradar.nlp.analyze import analyze

    counts = []
    index = FingerprintIndex()
    for n, item in enumerate(dev_texts()):
        article = Article(
            id=f"{n:032x}",
            feed_id="bench",
            feed_url="https://bench.example/feed",
            source="bench",
            title=item.get("title") or "",
            summary=item.get("summary") or "",
            published=BASE_PUBLISHED,
            fetched=utcnow(),
        )
        analysis = analyze(
            article.title, article.summary, published=BASE_PUBLISHED.date().isoformat()
        )
        counts.append(len(reports_from(enrich(article, analysis, index))))
    return counts


# -- producing and consuming ---------------------------------------------------------------


class Collector:
    """Reads output topics from the start; remembers each record's CreateTime per topic."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        from aiokafka import AIOKafkaConsumer

        self.consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=20,
        )
        self.records: dict[str, list[Any]] = {t: [] for t in topics}
        self.last_arrival = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            for tp, messages in batch.items():
                self.records[tp.topic].extend(messages)
                self.last_arrival = time.monotonic()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    def count(self, topic: str) -> int:
        return len(self.records[topic])

    async def wait(self, done: Any, timeout: float, quiet: float = 0.0) -> bool:
        """Wait until `done()` holds and nothing arrived for `quiet` s; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done() and time.monotonic() - self.last_arrival >= quiet:
                return True
            await asyncio.sleep(0.05)
        return False


async def producer_for(bootstrap: str) -> Any:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=-1, linger_ms=5)
    await producer.start()
    return producer


async def warm_up(bootstrap: str, topic: str, collector: Collector, out: str, run: str) -> None:
    """Send a few articles and wait until they come out: the worker is up and assigned."""
    producer = await producer_for(bootstrap)
    try:
        before = collector.count(out)
        for key, value, _ in make_articles(f"{run}-warm", 8):
            await producer.send_and_wait(topic, value=value, key=key)
        if not await collector.wait(lambda: collector.count(out) >= before + 8, timeout=120):
            raise RuntimeError(f"worker did not answer on {out} within 120 s")
        await asyncio.sleep(1.0)
    finally:
        await producer.stop()


async def send_all(bootstrap: str, topic: str, articles: list[tuple[bytes, bytes, int]]) -> float:
    """Send every article as fast as the producer goes; return the wall time of the first send."""
    producer = await producer_for(bootstrap)
    try:
        first = time.time()
        futures = [await producer.send(topic, value=v, key=k) for k, v, _ in articles]
        await asyncio.gather(*futures)
        return first
    finally:
        await producer.stop()


async def send_paced(
    bootstrap: str, topic: str, articles: list[tuple[bytes, bytes, int]], rate: float
) -> dict[bytes, float]:
    """Send at a steady `rate` articles/s (small bursts every 20 ms); return send times."""
    producer = await producer_for(bootstrap)
    sent: dict[bytes, float] = {}
    try:
        started = time.monotonic()
        for n, (key, value, _) in enumerate(articles):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0.02:
                await asyncio.sleep(delay)
            sent[key] = time.time()
            await producer.send(topic, value=value, key=key)
        await producer.flush()
        return sent
    finally:
        await producer.stop()


# -- the runs ------------------------------------------------------------------------------


async def run_passthrough(bootstrap: str, n: int) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    prefix = f"pt{run}."
    source, out = f"{prefix}news.articles", f"{prefix}passthrough.out"
    from newsradar.broker import ensure_topics

    await ensure_topics([bootstrap], [source, out], PARTITIONS, 1)
    articles = make_articles(run, n)
    collector = Collector(bootstrap, [out])
    await collector.start()
    try:
        with WorkerProcess("passthrough", bootstrap, prefix) as worker:
            await warm_up(bootstrap, source, collector, out, run)
            base = collector.count(out)
            cpu = worker.cpu_seconds()
            first = await send_all(bootstrap, source, articles)
            ok = await collector.wait(lambda: collector.count(out) >= base + n, timeout=180)
            cpu_after = worker.cpu_seconds()
            if not ok and not worker.alive():
                raise RuntimeError(f"pass-through worker died:\n{worker.log_tail()}")
    finally:
        await collector.stop()
    last = max(r.timestamp for r in collector.records[out][base:]) / 1000
    elapsed = last - first
    return {
        "articles": n,
        "complete": ok,
        "seconds": round(elapsed, 3),
        "articles_per_second": round(n / elapsed, 1),
        "worker_cpu_ms_per_article": _cpu_per_article(cpu, cpu_after, n),
    }


def _cpu_per_article(before: float | None, after: float | None, n: int) -> float | None:
    """Worker CPU per article in ms over the measured window (includes the quiet tail)."""
    if before is None or after is None:
        return None
    return round((after - before) / n * 1000, 3)


def _newest_article(record: Any, kind: str) -> str | None:
    data = json.loads(record.value)
    event = data.get("event") if kind == "alert" else data
    ids = (event or {}).get("article_ids") or []
    return ids[-1] if ids else None


async def run_pipeline(
    bootstrap: str,
    n: int,
    latency_seconds: float,
    rate: float,
    profile: str | None,
    experiments: list[str] | None = None,
) -> dict[str, Any]:
    """Throughput of N articles sent at once, then latency at a steady rate."""
    from newsradar.broker import ensure_topics

    run = uuid.uuid4().hex[:6]
    prefix = f"nr{run}."
    names = [
        "news.articles",
        "news.enriched",
        "news.reports",
        "news.events",
        "news.alerts",
        "news.dlq",
        "news.feeds",
    ]
    await ensure_topics([bootstrap], [prefix + t for t in names], PARTITIONS, 1)
    source = prefix + "news.articles"
    enriched, events, alerts, dlq = (
        prefix + t for t in ("news.enriched", "news.events", "news.alerts", "news.dlq")
    )
    per_item = reports_per_item()
    articles = make_articles(run, n)
    expected_events = sum(per_item[index] for _, _, index in articles)
    collector = Collector(bootstrap, [enriched, events, alerts, dlq])
    await collector.start()
    result: dict[str, Any] = {"articles": n, "expected_events": expected_events}
    try:
        with WorkerProcess("pipeline", bootstrap, prefix, profile, experiments) as worker:
            await warm_up(bootstrap, source, collector, enriched, run)
            await collector.wait(lambda: True, timeout=10, quiet=2.0)
            base = {t: collector.count(t) for t in collector.records}

            def done() -> bool:
                # Every article enriched, and every expected event out; or, if the worker's
                # analysis differs from the count made here (code changed in between),
                # nothing more for 5 s (`complete` then says so).
                if collector.count(enriched) < base[enriched] + n:
                    return False
                return collector.count(events) >= base[events] + expected_events or (
                    time.monotonic() - collector.last_arrival >= 5.0
                )

            cpu = worker.cpu_seconds()
            waited = worker.runqueue_wait_seconds()
            first = await send_all(bootstrap, source, articles)
            await collector.wait(done, timeout=240, quiet=2.0)
            ok = collector.count(events) - base[events] == expected_events
            cpu_after = worker.cpu_seconds()
            waited_after = worker.runqueue_wait_seconds()
            if not ok and not worker.alive():
                raise RuntimeError(f"pipeline worker died:\n{worker.log_tail()}")
            outs = {t: collector.records[t][base[t] :] for t in collector.records}
            last = max(r.timestamp for t in (enriched, events, alerts) for r in outs[t]) / 1000
            last_enriched = max(r.timestamp for r in outs[enriched]) / 1000
            elapsed = last - first
            result |= {
                "complete": ok,
                "seconds": round(elapsed, 3),
                "articles_per_second": round(n / elapsed, 1),
                "enrich_stage_articles_per_second": round(n / (last_enriched - first), 1),
                "enriched": len(outs[enriched]),
                "events": len(outs[events]),
                "alerts": len(outs[alerts]),
                "dead_letters": len(outs[dlq]),
                "worker_cpu_ms_per_article": _cpu_per_article(cpu, cpu_after, n),
                "worker_cpu_utilisation": None
                if cpu is None or cpu_after is None
                else round((cpu_after - cpu) / (elapsed + 2.0), 2),
                # Runnable but not running (the CPU was busy elsewhere), per article.
                "worker_runqueue_wait_ms_per_article": _cpu_per_article(waited, waited_after, n),
            }
            if latency_seconds > 0:
                result["latency"] = await _latency(
                    bootstrap,
                    source,
                    collector,
                    run,
                    rate,
                    latency_seconds,
                    per_item,
                    (enriched, events, alerts),
                    n,
                )
    finally:
        await collector.stop()
    return result


async def _latency(
    bootstrap: str,
    source: str,
    collector: Collector,
    run: str,
    rate: float,
    seconds: float,
    per_item: list[int],
    topics: tuple[str, str, str],
    start: int,
) -> dict[str, Any]:
    enriched, events, alerts = topics
    await collector.wait(lambda: True, timeout=30, quiet=2.0)
    base = {t: collector.count(t) for t in topics}
    count = int(rate * seconds)
    # Continue the dating where the throughput run stopped, so these reports open new
    # events (and alerts) instead of updating the throughput run's.
    rounds = -(-start // len(per_item))
    articles = make_articles(f"{run}-lat", count, start=rounds * len(per_item))
    expected_events = sum(per_item[index] for _, _, index in articles)
    sent = await send_paced(bootstrap, source, articles, rate)
    await collector.wait(
        lambda: (
            collector.count(enriched) >= base[enriched] + count
            and (
                collector.count(events) >= base[events] + expected_events
                or time.monotonic() - collector.last_arrival >= 5.0
            )
        ),
        timeout=120,
        quiet=2.0,
    )
    to_enriched = [
        r.timestamp / 1000 - sent[r.key]
        for r in collector.records[enriched][base[enriched] :]
        if r.key in sent
    ]
    to_event: list[float] = []
    to_alert: list[float] = []
    for topic, kind, sink in ((events, "event", to_event), (alerts, "alert", to_alert)):
        for record in collector.records[topic][base[topic] :]:
            newest = _newest_article(record, kind)
            if newest is not None and newest.encode() in sent:
                sink.append(record.timestamp / 1000 - sent[newest.encode()])

    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "count": len(values),
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1) if values else None,
        }

    return {
        "rate_articles_per_second": rate,
        "seconds": seconds,
        "articles": count,
        "article_to_enriched": summary(to_enriched),
        "article_to_event": summary(to_event),
        "article_to_alert": summary(to_alert),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from newsradar.broker import EmbeddedBroker

    result: dict[str, Any] = {"machine": machine()}
    with EmbeddedBroker() as broker:
        result["broker"] = "embedded Tansu (memory)"
        result["passthrough"] = await run_passthrough(broker.bootstrap, args.articles)
        result["load_average_mid"] = [round(x, 2) for x in load_average()]
        result["pipeline"] = await run_pipeline(
            broker.bootstrap,
            args.articles,
            args.latency_seconds,
            args.rate,
            None if args.experiment else args.profile,
        )
        if args.experiment:
            # EXPERIMENT: the same run again with proposed src/ changes monkeypatched
            # into the worker process (benchmarks/experiments.py), against the same broker.
            result["experiment"] = {
                "names": args.experiment,
                "pipeline": await run_pipeline(
                    broker.bootstrap,
                    args.articles,
                    args.latency_seconds,
                    args.rate,
                    args.profile,
                    args.experiment,
                ),
            }
    result["ratio_to_passthrough"] = round(
        result["pipeline"]["articles_per_second"] / result["passthrough"]["articles_per_second"], 2
    )
    result["load_average_end"] = [round(x, 2) for x in load_average()]
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse options, run both workers, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 400 articles, 3 s")
    parser.add_argument("--articles", type=int, default=4_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--profile", help="py-spy flame graph (SVG) of the newsradar worker")
    parser.add_argument(
        "--experiment",
        action="append",
        choices=sorted(EXPERIMENTS),
        help="also run the pipeline with this proposed change monkeypatched (experiment only)",
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, bootstrap, prefix, port, experiments = args.worker
        if experiments != "-":
            apply_experiments(experiments.split(","))
        target = pipeline_worker if kind == "pipeline" else passthrough_worker
        target(bootstrap, prefix, int(port))
        return 0
    if args.quick:
        args.articles, args.latency_seconds = 400, 3.0
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy (pip install py-spy)")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    texts = [f"{i.get('title') or ''}\n{i.get('summary') or ''}" for i in dev_texts()]
    for name in args.experiment or []:
        if not check_experiment(name, texts):
            parser.error(f"experiment {name} changes results on the dev file")
    result = asyncio.run(run(args))
    pt, nr = result["passthrough"], result["pipeline"]
    lines = [
        f"pass-through Faust agent: {pt['articles_per_second']:>8.0f} articles/s "
        f"({pt['articles']} in {pt['seconds']} s)",
        f"newsradar pipeline:       {nr['articles_per_second']:>8.0f} articles/s "
        f"({nr['articles']} in {nr['seconds']} s; enrich stage alone "
        f"{nr['enrich_stage_articles_per_second']:.0f}/s)",
        f"ratio to pass-through:    {result['ratio_to_passthrough']:>8.2f}",
        f"worker CPU per article:   pipeline {nr['worker_cpu_ms_per_article']} ms "
        f"(utilisation {nr['worker_cpu_utilisation']}), pass-through "
        f"{pt['worker_cpu_ms_per_article']} ms; pipeline waited for a CPU "
        f"{nr['worker_runqueue_wait_ms_per_article']} ms per article",
        f"outputs: {nr['enriched']} enriched, {nr['events']} events "
        f"(expected {nr['expected_events']}), {nr['alerts']} alerts, "
        f"{nr['dead_letters']} dead letters; complete={nr['complete']}",
    ]
    latency = nr.get("latency")
    if latency:
        lines.append(
            f"latency at {latency['rate_articles_per_second']:.0f} articles/s for "
            f"{latency['seconds']:.0f} s:"
        )
        for name in ("article_to_enriched", "article_to_event", "article_to_alert"):
            s = latency[name]
            lines.append(
                f"  {name:<20} p50 {s['p50_ms']:>7.1f} ms  p99 {s['p99_ms']:>7.1f} ms  "
                f"(n={s['count']})"
            )
    if "experiment" in result:
        ex = result["experiment"]["pipeline"]
        lines.append(
            f"EXPERIMENT {'+'.join(result['experiment']['names'])} (monkeypatched, not in src/): "
            f"{ex['articles_per_second']:.0f} articles/s, x"
            f"{ex['articles_per_second'] / nr['articles_per_second']:.2f} the current code, "
            f"{ex['articles_per_second'] / pt['articles_per_second']:.2f} of pass-through "
            f"(enrich stage alone {ex['enrich_stage_articles_per_second']:.0f}/s; worker CPU "
            f"{ex['worker_cpu_ms_per_article']} ms per article)"
        )
        ex_latency = ex.get("latency")
        if ex_latency:
            for name in ("article_to_enriched", "article_to_event", "article_to_alert"):
                q = ex_latency[name]
                lines.append(
                    f"  EXPERIMENT {name:<20} p50 {q['p50_ms']:>7.1f} ms  "
                    f"p99 {q['p99_ms']:>7.1f} ms  (n={q['count']})"
                )
    emit(result, args.json, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
