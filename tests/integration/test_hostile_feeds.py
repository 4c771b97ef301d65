"""Hostile and broken feeds through the running service (`newsradar run` as a process).

One service polls a dozen hostile feeds beside a good one. For each hostile feed
the test checks what an operator would see: a `feed poll failed ... kind=<kind>`
log line (or, for recoverable encodings, articles with readable text) and
`newsradar_feed_polls_total{feed,outcome}` on /metrics, within a bounded time and
memory; meanwhile the good feed keeps publishing. The library-level behaviour of
each fault is covered by tests/integration/test_fetch.py and tests/unit/test_parse.py;
here the point is that the service as a whole stays up, bounded and observable.

A second service runs with `security.allow_private_addresses: false` and must refuse
the loopback and link-local feeds without sending them a single request.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from newsradar.broker import EmbeddedBroker

from .conftest import DATA, Service, consume, publish
from .feedserver import FeedServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOSTILE = DATA / "hostile"
MARKER = "NEWSRADAR-XXE-MARKER-7f3c1e"
MAX_BODY = 1024 * 1024
TIMEOUT = 3.0
#: Peak resident memory allowed to the service process while it is being attacked.
MAX_RSS_BYTES = 1024 * 1024 * 1024


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of the service's /metrics: (name, labels) -> value (none while it starts)."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            assert response.status == 200
            text = await response.text()
    except aiohttp.ClientConnectionError:
        return {}  # the web server starts a moment after the topics are created
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def metric(samples: dict[Any, float], name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def metrics_port(config: Path) -> int:
    """The metrics port written in a service config."""
    return int(yaml.safe_load(config.read_text(encoding="utf-8"))["metrics"]["port"])


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def hostile_file(name: str, **substitutions: str) -> bytes:
    """A file of tests/data/hostile with its @PLACEHOLDERS@ filled in."""
    body = (HOSTILE / name).read_text(encoding="utf-8")
    for key, value in substitutions.items():
        body = body.replace(f"@{key}@", value)
    return body.encode("utf-8")


async def test_hostile_feeds_are_bounded_logged_counted_and_do_not_stop_a_good_feed(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """Entity bombs, XXE, a gzip bomb, huge and trickled bodies, broken encodings, a redirect
    loop, HTML and an empty 200: each ends in its outcome on /metrics and a log line, fast and
    in bounded memory; no local file leaks; the good feed publishes before and after."""
    marker_file = tmp_path / "secret.txt"
    marker_file.write_text(MARKER + "\n", encoding="utf-8")
    dtd_file = tmp_path / "evil.dtd"
    dtd_file.write_bytes(hostile_file("xxe_external.dtd", MARKER_FILE_URL=marker_file.as_uri()))
    served = {
        "laughs.xml": (HOSTILE / "billion_laughs.xml").read_bytes(),
        "xxe.xml": hostile_file("xxe_internal_subset.xml", MARKER_FILE_URL=marker_file.as_uri()),
        "xxe-dtd.xml": hostile_file("xxe_external_dtd.xml", DTD_FILE_URL=dtd_file.as_uri()),
        "bad-utf8.xml": (HOSTILE / "invalid_utf8.xml").read_bytes(),
        "utf16-lie.xml": (HOSTILE / "declared_utf16_is_utf8.xml").read_bytes(),
        "latin1-lie.xml": (HOSTILE / "declared_latin1_is_utf8.xml").read_bytes(),
    }
    paths = {name: publish(feeds, name, body) for name, body in served.items()}
    tech = (DATA / "e2e" / "tech.xml").read_bytes()
    good_path = publish(feeds, "good.xml", tech)
    feeds.prepare_bomb(64)  # built before the service polls it

    # (feed name, URL, outcome on /metrics); the poller files a body that is no feed at all
    # (HTML, an empty 200, a refused entity declaration) under "malformed".
    cases: list[tuple[str, str, str]] = [
        ("Laughs", feeds.url(paths["laughs.xml"]), "malformed"),
        ("XXE", feeds.url(paths["xxe.xml"]), "malformed"),
        ("XXE DTD", feeds.url(paths["xxe-dtd.xml"]), "malformed"),
        ("Gzip bomb", feeds.url("/bomb?mib=64"), "too_large"),
        ("Huge", feeds.url("/huge"), "too_large"),
        ("Huge declared", feeds.url("/huge?declare=1"), "too_large"),
        ("Trickle", feeds.url("/trickle?bytes=600&delay=1"), "timeout"),
        ("Bad UTF-8", feeds.url(paths["bad-utf8.xml"]), "malformed"),
        ("UTF-16 lie", feeds.url(paths["utf16-lie.xml"]), "malformed"),
        ("Latin-1 lie", feeds.url(paths["latin1-lie.xml"]), "ok"),
        ("Loop", feeds.url("/loop/0"), "too_many_redirects"),
        ("Ping-pong", feeds.url("/pingpong/a"), "too_many_redirects"),
        ("HTML", feeds.url("/html"), "malformed"),
        ("Empty", feeds.url("/empty"), "malformed"),
        ("Server error", feeds.url("/status/503"), "http_status"),
    ]
    config = service_config(
        [{"name": "Good", "url": feeds.url(good_path)}]
        + [{"name": name, "url": url} for name, url, _ in cases],
        polling={
            "min_interval": 1,
            "max_interval": 2,
            "default_interval": 2,
            "tick": 0.2,
            "timeout": TIMEOUT,
            "connect_timeout": 2,
            "max_body_bytes": MAX_BODY,
            "max_redirects": 3,
            "max_errors_backoff": 4,
        },
    )
    prefix = f"t{service_config.run_id}."
    port = metrics_port(config)
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()
    started = time.monotonic()

    # Every hostile feed reaches its outcome; the slowest (the trickle) is cut by the timeout.
    seen: dict[str, float] = {}

    async def all_outcomes() -> bool:
        samples = await scrape(port)
        for name, _, outcome in cases:
            if name not in seen and metric(
                samples, "newsradar_feed_polls_total", feed=name, outcome=outcome
            ):
                seen[name] = time.monotonic() - started
        return len(seen) == len(cases)

    deadline = time.monotonic() + 45
    while not await all_outcomes():
        missing = [c[0] for c in cases if c[0] not in seen]
        assert time.monotonic() < deadline, (
            f"no expected outcome for {missing}:\n" + (service.log()[-3000:])
        )
        await asyncio.sleep(0.5)
    print("seconds to each outcome:", {k: round(v, 1) for k, v in sorted(seen.items())})

    samples = await scrape(port)
    # The trickled body was cut at the total timeout, not after the 600 s it would take.
    count = metric(samples, "newsradar_feed_fetch_seconds_count", feed="Trickle")
    total = metric(samples, "newsradar_feed_fetch_seconds_sum", feed="Trickle")
    assert count >= 1 and total / count < TIMEOUT + 2
    # Bodies over the cap were cut while streaming: never more than the cap was counted.
    for name in ("Gzip bomb", "Huge", "Huge declared"):
        assert metric(samples, "newsradar_feed_bytes_total", feed=name) == 0
    # A failing feed shows its consecutive errors; the good one shows none.
    assert metric(samples, "newsradar_feed_consecutive_errors", feed="Loop") >= 1
    assert metric(samples, "newsradar_feed_consecutive_errors", feed="Good") == 0

    log = service.log()
    for name, _, outcome in cases:
        if outcome == "ok":
            continue
        kind = "malformed" if outcome == "malformed" else outcome
        failed_line = f"feed poll failed feed={name} kind={kind}"
        malformed_line = f"feed is malformed but yielded entries feed={name}"
        assert failed_line in log or malformed_line in log, (name, outcome)
    assert "declares XML entities" in log
    assert "Traceback" not in log

    # The good feed published its three articles; the recoverable feeds published readable text.
    records = await consume(
        kafka.bootstrap, prefix + "news.articles", expect=8, timeout=30, settle=2.0
    )
    articles = [json.loads(r.value) for r in records]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for article in articles:
        by_source.setdefault(article["source"], []).append(article)
    assert len(by_source["Good"]) == 3
    assert len(by_source["Bad UTF-8"]) == 3
    assert "Plain title after the bad ones" in {a["title"] for a in by_source["Bad UTF-8"]}
    assert [a["title"] for a in by_source["Latin-1 lie"]] == ["Müller GmbH streicht 300 Stellen"]
    assert set(by_source) <= {"Good", "Bad UTF-8", "Latin-1 lie", "XXE DTD"}, set(by_source)
    # XXE: the local file was never read, whatever was published.
    assert all(MARKER not in r.value.decode("utf-8") for r in records)
    assert MARKER not in service.log()

    # The good feed keeps publishing while the hostile ones are retried.
    new_item = (
        b"<item><title>Quantum start-up Qubera raises $75 million</title>"
        b"<link>http://127.0.0.1/tech/qubera</link><guid isPermaLink='false'>tech-0004</guid>"
        b"</item>\n    <item>"
    )
    publish(feeds, "good.xml", tech.replace(b"<item>", new_item, 1))
    expected = len(records) + 1

    async def qubera() -> bool:
        got = await consume(kafka.bootstrap, prefix + "news.articles", expect=expected, timeout=3)
        return any(b"Qubera" in r.value for r in got)

    deadline = time.monotonic() + 30
    while not await qubera():
        assert time.monotonic() < deadline, "the good feed stopped publishing"
    assert service.process is not None and service.process.poll() is None
    rss = peak_rss_bytes(service.process.pid)
    print(f"service peak RSS: {rss / 2**20:.0f} MiB")
    assert rss < MAX_RSS_BYTES


async def test_private_addresses_refused_without_a_request_when_not_allowed(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """With allow_private_addresses false, loopback (also by name and as IPv4-mapped IPv6)
    and the link-local metadata address are refused before connecting: a log line, the
    blocked_address outcome on /metrics, and not one request reaches the feed server."""
    good_path = publish(feeds, "good.xml", (DATA / "e2e" / "tech.xml").read_bytes())
    port = feeds.port
    cases = [
        ("Loopback", feeds.url(good_path)),
        ("Localhost", f"http://localhost:{port}{good_path}"),
        ("Mapped", f"http://[::ffff:127.0.0.1]:{port}{good_path}"),
        ("Metadata", "http://169.254.169.254/latest/meta-data/"),
        ("Redirect", feeds.url("/redirect?to=http://169.254.169.254/latest/meta-data/")),
    ]
    config = service_config(
        [{"name": name, "url": url} for name, url in cases],
        security={"allow_private_addresses": False},
    )
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()
    metrics = metrics_port(config)

    async def all_blocked() -> bool:
        samples = await scrape(metrics)
        return all(
            metric(samples, "newsradar_feed_polls_total", feed=name, outcome="blocked_address")
            for name, _ in cases
        )

    deadline = time.monotonic() + 30
    while not await all_blocked():
        assert time.monotonic() < deadline, service.log()[-3000:]
        await asyncio.sleep(0.5)
    for name, _ in cases:
        assert f"feed poll failed feed={name} kind=blocked_address" in service.log()
    assert feeds.requests == []
