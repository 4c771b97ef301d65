"""The ingestion service end to end: loopback feeds -> `newsradar run` -> news.articles."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from newsradar.broker import EmbeddedBroker
from newsradar.ingest.canonical import article_id

from .conftest import DATA, Service, consume, publish, wait_until
from .feedserver import FeedServer

pytestmark = pytest.mark.integration


async def test_articles_published_once_then_304_then_new_item_once(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """Each entry is published once; an unchanged feed is answered 304; a new item appears once."""
    tech = (DATA / "e2e" / "tech.xml").read_bytes()
    tech_path = publish(feeds, "tech.xml", tech)
    eco_path = publish(feeds, "eco.xml", (DATA / "e2e" / "eco_fr.xml").read_bytes())
    config = service_config(  # type: ignore[operator]
        [
            {"name": "Tech", "url": feeds.url(tech_path)},
            {"name": "Eco", "url": feeds.url(eco_path)},
        ]
    )
    topic = f"t{service_config.run_id}.news.articles"  # type: ignore[attr-defined]
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()

    records = await consume(kafka.bootstrap, topic, expect=5, timeout=60, settle=1.0)
    articles = [json.loads(r.value) for r in records]
    assert len(articles) == 5, articles
    assert len({a["id"] for a in articles}) == 5
    by_title = {a["title"]: a for a in articles}
    novalith = by_title["Chipmaker Novalith raises $300 million to build AI accelerators"]
    # The id is the hash of the canonical URL: tracking parameters do not change it.
    assert novalith["id"] == article_id(
        "http://127.0.0.1/tech/novalith-raises-300m", None, novalith["feed_id"], ""
    )
    assert novalith["summary"] == "The Series C round was led by a sovereign fund."  # HTML removed
    assert novalith["language"] == "en"
    assert novalith["published"].startswith("2026-11-23T08:00:00")
    assert novalith["source"] == "Tech"
    assert all(r.key.decode() == json.loads(r.value)["id"] for r in records)
    delmas = by_title["Le groupe Delmas va supprimer 1 200 postes en France"]
    assert delmas["language"] == "fr" and delmas["summary"].startswith("Les syndicats dénoncent")

    # The second poll sends the validators (so the server answers 304); nothing is republished.
    await wait_until(lambda: feeds.count(tech_path) >= 2)
    assert feeds.last_headers(tech_path).get("if-none-match", "").startswith('"')

    # A new item appears: it is published exactly once.
    new_item = (
        b"<item><title>Quantum start-up Qubera raises $75 million</title>"
        b"<link>http://127.0.0.1/tech/qubera</link><guid isPermaLink='false'>tech-0004</guid>"
        b"<pubDate>Tue, 24 Nov 2026 12:00:00 GMT</pubDate></item>\n    <item>"
    )
    publish(feeds, "tech.xml", tech.replace(b"<item>", new_item, 1))
    records = await consume(kafka.bootstrap, topic, expect=6, timeout=30, settle=3.0)
    titles = [json.loads(r.value)["title"] for r in records]
    assert len(records) == 6, titles
    assert titles.count("Quantum start-up Qubera raises $75 million") == 1

    # A restarted worker recovers the feed state from its changelog and republishes nothing.
    assert service.stop() == 0
    polls_before = len(feeds.requests)
    service.start()
    await wait_until(lambda: len(feeds.requests) >= polls_before + 4, timeout=60)
    records = await consume(kafka.bootstrap, topic, expect=6, timeout=10, settle=2.0)
    assert len(records) == 6


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


async def test_parse_processes_exit_when_the_worker_is_killed(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """After a SIGKILL of the worker, its feed-parsing processes do not linger."""
    path = publish(feeds, "tech.xml", (DATA / "e2e" / "tech.xml").read_bytes())
    config = service_config([{"name": "Tech", "url": feeds.url(path)}])  # type: ignore[operator]
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()
    await service.wait_for_log("feed polled", timeout=60)
    assert service.process is not None
    helpers = _children(service.process.pid)
    assert len(helpers) >= 2, "the parse pool (fork server and workers) should be running"
    service.stop(signal.SIGKILL)

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in helpers)

    await wait_until(gone, timeout=15)
