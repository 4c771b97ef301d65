"""The ingestion service end to end: loopback feeds -> `newsradar run` -> news.articles."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from newsradar.broker import EmbeddedBroker
from newsradar.ingest.canonical import article_id

from .conftest import DATA, Service, consume

pytestmark = pytest.mark.integration


@dataclass
class Feeds:
    """A loopback HTTP server with mutable feed bodies, ETag support and a request log."""

    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[tuple[str, int, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        item = self.bodies.get(request.path)
        if item is None:
            self.requests.append((request.path, 404, None))
            return web.Response(status=404)
        body, content_type = item
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        sent = request.headers.get("If-None-Match")
        status = 304 if sent == etag else 200
        self.requests.append((request.path, status, sent))
        if status == 304:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})


@pytest.fixture
async def feeds() -> AsyncIterator[Feeds]:
    state = Feeds()
    app = web.Application()
    app.router.add_get("/{tail:.*}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def statuses(feeds: Feeds, path: str) -> list[int]:
    return [status for p, status, _ in feeds.requests if p == path]


async def wait_until(predicate: object, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.2)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


async def test_articles_published_once_then_304_then_new_item_once(
    kafka: EmbeddedBroker,
    feeds: Feeds,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """Each entry is published once; an unchanged feed is answered 304; a new item appears once."""
    tech = (DATA / "e2e" / "tech.xml").read_bytes()
    feeds.bodies["/tech.xml"] = (tech, "application/rss+xml")
    feeds.bodies["/eco.xml"] = ((DATA / "e2e" / "eco_fr.xml").read_bytes(), "application/rss+xml")
    config = service_config(  # type: ignore[operator]
        [
            {"name": "Tech", "url": feeds.url("/tech.xml")},
            {"name": "Eco", "url": feeds.url("/eco.xml")},
        ]
    )
    topic = f"t{service_config.run_id}.news.articles"  # type: ignore[attr-defined]
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)

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

    # The second poll sends the validator and is answered 304; nothing is republished.
    await wait_until(lambda: 304 in statuses(feeds, "/tech.xml"))
    assert feeds.requests[-1][2] is not None

    # A new item appears: it is published exactly once.
    new_item = (
        b"<item><title>Quantum start-up Qubera raises $75 million</title>"
        b"<link>http://127.0.0.1/tech/qubera</link><guid isPermaLink='false'>tech-0004</guid>"
        b"<pubDate>Tue, 24 Nov 2026 12:00:00 GMT</pubDate></item>\n    <item>"
    )
    feeds.bodies["/tech.xml"] = (tech.replace(b"<item>", new_item, 1), "application/rss+xml")
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
