"""Feeds per second one worker's poller sustains, next to a plain `feedparser.parse(url)` loop.

What runs: `newsradar.ingest.poller.Poller` driven directly (not the whole service),
with the service's `FeedFetcher` settings (50 polls at a time, 2 connections per
host), its parse executor (2 processes, as the service), and a publish callback that encodes every
article to its wire bytes and counts it (no broker). Every poll's `FeedCommand` is
encoded too, as the service sends it.

The feeds come from a loopback aiohttp server in a child process (so its CPU is not
counted in the poller's process) listening on `--sites` ports of 127.0.0.1, each port
standing for one site (aiohttp limits connections per host and port). It holds
`--feeds` feeds, generated on the fly: 50 items each, titles and summaries taken
from the dev file at run time. The client starts from a steady state (ETag known,
the 47 older items already seen), so a feed either answers 304 or, when the server
marks it modified, 50 items of which 3 are new.

Passes, each timed from the first request to the last outcome:

- 304: every feed answers 304 Not Modified;
- parse: every feed of a subset (`--parse-feeds`) answers 50 items, 3 new;
- mixed: all feeds, one in `--modified-every` modified, the rest 304;
- plain loop (baseline): `feedparser.parse(url)` one feed after the other over a
  subset, as a naive poller would (no validators, so every feed is downloaded
  and parsed).

Peak RSS of this process (the poller, its 10,000 feed states and metrics) is printed;
the server's memory is not counted. A second part measures the service's own
bookkeeping per feed that the Poller does not do: decoding every `FeedState` of the
table on each scheduler tick, and the table's size, at 50 and at 1,000 remembered
item ids per feed (`polling.seen_ids_per_feed` defaults to 1,000).

    python benchmarks/bench_poll.py [--json] [--quick] [--profile FILE.html]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import html
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import dev_texts, emit, load_average, machine, peak_rss_mib
from experiments import EXPERIMENTS
from experiments import apply as apply_experiments
from experiments import check as check_experiment

ITEMS = 50
NEW_ITEMS = 3
BASE_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# -- the loopback feed server (child process) ---------------------------------------------


def _item_link(feed: int, n: int) -> str:
    return f"https://site{feed % 97}.example/news/{feed}/{n}"


def _feed_body(feed: int, first: int, texts: list[tuple[str, str]]) -> bytes:
    """RSS 2.0 with items first..first+ITEMS-1, newest first, one every 30 minutes."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Feed {feed}</title><link>https://site{feed % 97}.example/</link>"
        "<description>bench</description><language>en</language>"
    ]
    last = first + ITEMS - 1
    for n in range(last, first - 1, -1):
        title, summary = texts[(feed * 7 + n) % len(texts)]
        when = BASE_TIME + timedelta(minutes=30 * n)
        parts.append(
            f"<item><title>{html.escape(title)}</title><link>{_item_link(feed, n)}</link>"
            f"<description>{html.escape(summary)}</description>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(sites: int, port_file: Path) -> None:
    """Run the feed server until SIGTERM; write its ports to `port_file`."""
    from aiohttp import web

    texts = [(i.get("title") or "", i.get("summary") or "") for i in dev_texts()]
    state = {"modified_every": 0}

    async def feed(request: web.Request) -> web.StreamResponse:
        number = int(request.match_info["n"])
        every = state["modified_every"]
        modified = every > 0 and number % every == 0
        etag = '"v2"' if modified else '"v1"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        first = NEW_ITEMS if modified else 0
        return web.Response(
            body=_feed_body(number, first, texts),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def control(request: web.Request) -> web.StreamResponse:
        state["modified_every"] = int(request.query["modified_every"])
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_get("/control", control)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ports = []
        for _ in range(sites):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
            await web.SockSite(runner, sock, backlog=1024).start()
        await asyncio.to_thread(port_file.write_text, " ".join(map(str, ports)))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


class ServerProcess:
    """The feed server child process; stopped on exit whatever happens."""

    def __init__(self, sites: int) -> None:
        self.sites = sites
        self.process: subprocess.Popen[bytes] | None = None
        self.ports: list[int] = []

    def __enter__(self) -> ServerProcess:
        port_file = Path(f"/tmp/newsradar-bench-poll-{os.getpid()}.ports")
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.sites), str(port_file)],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError("feed server did not start")
            time.sleep(0.05)
        self.ports = [int(p) for p in port_file.read_text().split()]
        port_file.unlink()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def url(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.ports[feed % len(self.ports)]}/feed/{feed}"

    def set_modified_every(self, every: int) -> None:
        import urllib.request

        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.ports[0]}/control?modified_every={every}", timeout=10
        ) as answer:
            answer.read()


# -- the poller side -----------------------------------------------------------------------


def make_states(server: ServerProcess, feeds: int, seen_per_feed: int = ITEMS) -> list[Any]:
    """Feed states as after a first poll: ETag "v1", the items 0..49 already seen."""
    from newsradar.ingest.canonical import article_id, feed_id
    from newsradar.ingest.state import FeedState

    states = []
    for number in range(feeds):
        url = server.url(number)
        fid = feed_id(url)
        seen = [article_id(_item_link(number, n), None, fid, "") for n in range(ITEMS)]
        states.append(
            FeedState(
                feed_id=fid,
                url=url,
                name=f"feed-{number}",
                etag='"v1"',
                polls=1,
                interval_seconds=600.0,
                seen_ids=seen[-seen_per_feed:],
            )
        )
    return states


class Counting:
    """The publish callback: encodes articles as the service does, and counts them."""

    def __init__(self) -> None:
        self.articles = 0
        self.bytes = 0

    async def __call__(self, articles: Any) -> None:
        for article in articles:
            self.bytes += len(article.to_bytes())
        self.articles += len(articles)


async def poll_pass(states: list[Any], concurrency: int = 50) -> dict[str, Any]:
    """Poll every state once, `concurrency` at a time, as the service's scheduler does."""
    from prometheus_client import CollectorRegistry

    from newsradar.ingest.fetch import FeedFetcher, FetchSettings
    from newsradar.ingest.poller import PollBounds, Poller, parse_executor
    from newsradar.metrics import Metrics

    publish = Counting()
    executor = parse_executor(2)  # what the service uses (polling.parse_processes: 2)
    fetcher = FeedFetcher(
        FetchSettings(per_host_limit=2, total_limit=concurrency, allow_private_addresses=True)
    )
    poller = Poller(fetcher, publish, Metrics(CollectorRegistry()), PollBounds(), executor)
    slots = asyncio.Semaphore(concurrency)
    outcomes: dict[str, int] = {}
    command_bytes = 0

    async def one(state: Any) -> None:
        nonlocal command_bytes
        async with slots:
            outcome = await poller.poll(state)
            command_bytes += len(outcome.command.to_bytes())
            outcomes[outcome.outcome] = outcomes.get(outcome.outcome, 0) + 1

    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(s) for s in states))
    finally:
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        await fetcher.close()
        executor.shutdown(wait=True)
    return {
        "feeds": len(states),
        "seconds": round(elapsed, 3),
        "feeds_per_second": round(len(states) / elapsed, 1),
        "cpu_seconds": round(cpu, 3),
        "outcomes": outcomes,
        "articles_published": publish.articles,
    }


def plain_loop(server: ServerProcess, numbers: list[int]) -> dict[str, Any]:
    """The baseline: `feedparser.parse(url)` for each feed in turn (no validators)."""
    import feedparser

    entries = 0
    started = time.perf_counter()
    for number in numbers:
        entries += len(feedparser.parse(server.url(number)).entries)
    elapsed = time.perf_counter() - started
    return {
        "feeds": len(numbers),
        "seconds": round(elapsed, 3),
        "feeds_per_second": round(len(numbers) / elapsed, 1),
        "entries": entries,
    }


def bookkeeping(states: list[Any], seen: int) -> dict[str, Any]:
    """What the service does per feed beyond the Poller, at `seen` remembered ids per feed.

    The scheduler tick (`Pipeline._schedule_due_feeds`) decodes every FeedState in the
    table; the table holds each state as JSON bytes.
    """
    from newsradar.ingest.state import FeedState, is_due
    from newsradar.models import decode, utcnow

    extra = [f"{i:032x}" for i in range(seen)]
    raws = [s.model_copy(update={"seen_ids": extra}).to_bytes() for s in states]
    table_mib = sum(len(r) for r in raws) / 1024 / 1024
    now = utcnow()
    started = time.perf_counter()
    due = sum(1 for raw in raws if is_due(decode(FeedState, raw), now))
    tick = time.perf_counter() - started
    del raws
    gc.collect()
    return {
        "seen_ids_per_feed": seen,
        "table_json_mib": round(table_mib, 1),
        "tick_decode_seconds": round(tick, 3),
        "due": due,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """All passes against one server; figures as one dict."""
    result: dict[str, Any] = {"machine": machine(), "driven": "Poller + FeedFetcher directly"}
    rss_start = peak_rss_mib()
    with ServerProcess(args.sites) as server:
        states = make_states(server, args.feeds)
        result["rss_after_states_mib"] = round(peak_rss_mib(), 1)

        server.set_modified_every(0)
        await poll_pass(states[: min(200, len(states))])  # warm-up: connections, imports
        result["pass_304"] = await poll_pass(states)

        server.set_modified_every(1)
        result["pass_parse"] = await poll_pass(states[: args.parse_feeds])

        server.set_modified_every(args.modified_every)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        result["pass_mixed"] = await poll_pass(states)
        if args.profile:
            profiler.stop()
            await asyncio.to_thread(Path(args.profile).write_text, profiler.output_html())
            print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
        result["pass_mixed"]["modified_share"] = round(1 / args.modified_every, 3)
        result["peak_rss_mib"] = round(peak_rss_mib(), 1)
        result["rss_before_mib"] = round(rss_start, 1)

        if args.experiment:
            # EXPERIMENT: proposed src/ changes monkeypatched into this process
            # (benchmarks/experiments.py), the parse and mixed passes again.
            apply_experiments(args.experiment)
            server.set_modified_every(1)
            parse_again = await poll_pass(states[: args.parse_feeds])
            server.set_modified_every(args.modified_every)
            mixed_again = await poll_pass(states)
            result["experiment"] = {
                "names": args.experiment,
                "pass_parse": parse_again,
                "pass_mixed": mixed_again,
            }
        loop_feeds = list(range(args.plain_feeds))
        result["plain_loop"] = await asyncio.to_thread(plain_loop, server, loop_feeds)
    result["bookkeeping"] = [bookkeeping(states, n) for n in (ITEMS, 1000)]
    plain = result["plain_loop"]["feeds_per_second"]
    for name in ("pass_304", "pass_parse", "pass_mixed"):
        result[name]["ratio_to_plain_loop"] = round(result[name]["feeds_per_second"] / plain, 1)
    result["load_average_end"] = [round(x, 2) for x in load_average()]
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the passes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 feeds")
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--parse-feeds", type=int, default=2_000)
    parser.add_argument("--plain-feeds", type=int, default=300)
    parser.add_argument("--modified-every", type=int, default=10)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--profile", help="write a pyinstrument HTML profile of the mixed pass")
    parser.add_argument(
        "--experiment",
        action="append",
        choices=sorted(EXPERIMENTS),
        help="re-run the parse and mixed passes with this proposed change (experiment only)",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return 0
    if args.quick:
        args.feeds, args.parse_feeds, args.plain_feeds = 1_000, 300, 60
    for name in args.experiment or []:
        if not check_experiment(name, []):
            parser.error(f"experiment {name} changes results")
    result = asyncio.run(run(args))
    p304, parse, mixed, plain = (
        result["pass_304"],
        result["pass_parse"],
        result["pass_mixed"],
        result["plain_loop"],
    )
    lines = [
        f"poller ({result['driven']}), {p304['feeds']} feeds on {args.sites} loopback sites",
        f"304 pass:    {p304['feeds_per_second']:>8.0f} feeds/s  ({p304['feeds']} feeds, "
        f"{p304['seconds']} s, x{p304['ratio_to_plain_loop']} plain loop)",
        f"parse pass:  {parse['feeds_per_second']:>8.0f} feeds/s  ({parse['feeds']} feeds of "
        f"{ITEMS} items, {NEW_ITEMS} new; x{parse['ratio_to_plain_loop']} plain loop; "
        f"{parse['cpu_seconds'] / parse['feeds'] * 1000:.1f} ms CPU per feed)",
        f"mixed pass:  {mixed['feeds_per_second']:>8.0f} feeds/s  ({mixed['modified_share']:.0%} "
        f"modified; x{mixed['ratio_to_plain_loop']} plain loop)",
        f"plain loop:  {plain['feeds_per_second']:>8.0f} feeds/s  (feedparser.parse(url), "
        f"{plain['feeds']} feeds)",
        f"peak RSS:    {result['peak_rss_mib']:>8.0f} MiB  (before states "
        f"{result['rss_before_mib']:.0f} MiB)",
    ]
    for book in result["bookkeeping"]:
        lines.append(
            f"service table at {book['seen_ids_per_feed']} seen ids/feed: "
            f"{book['table_json_mib']} MiB of state JSON, one scheduler tick decodes it in "
            f"{book['tick_decode_seconds']} s"
        )
    if "experiment" in result:
        ex = result["experiment"]
        lines.append(
            f"EXPERIMENT {'+'.join(ex['names'])} (monkeypatched, not in src/): parse pass "
            f"{ex['pass_parse']['feeds_per_second']:.0f} feeds/s "
            f"({ex['pass_parse']['cpu_seconds']} s CPU vs {parse['cpu_seconds']} s), mixed pass "
            f"{ex['pass_mixed']['feeds_per_second']:.0f} feeds/s"
        )
    emit(result, args.json, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
