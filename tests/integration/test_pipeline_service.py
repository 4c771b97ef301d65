"""The whole pipeline as a service: a loopback feed with the seed article -> alert decisions."""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from newsradar.broker import EmbeddedBroker

from .conftest import REPO, Service, consume, publish
from .feedserver import FeedServer

pytestmark = pytest.mark.integration

SEED_TITLE = "Microsoft va investir 10 milliards de dollars dans OpenAI"
RULES = [
    {
        "name": "microsoft-openai-deals",
        "kind": "deal",
        "parties_all": ["Microsoft", "OpenAI"],
        "channels": ["log"],
    },
    {"name": "ai-investments", "kind": "deal", "min_amount_usd": 100_000_000, "channels": ["log"]},
    {"name": "layoffs", "kind": "layoff", "min_headcount": 1000, "channels": ["log"]},
]


def shared_dir() -> Path:
    return Path(os.environ.get("NEWSRADAR_SHARED_DIR", REPO.parent / "shared"))


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document with (title, link, description) items."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<pubDate>Mon, 23 Jan 2023 14:00:00 GMT</pubDate>"
        f"<description>{escape(d)}</description></item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Loopback</title><link>http://127.0.0.1/</link><language>fr</language>{body}"
        "</channel></rss>"
    ).encode()


def log_time(line: str) -> datetime:
    return datetime.strptime(line[:23] + "+0000", "%Y-%m-%d %H:%M:%S,%f%z")


async def test_seed_article_gives_one_deal_and_one_layoff_decision_and_survives_restart(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """The seed article yields the Microsoft->OpenAI decisions and the layoff, nothing for 2019,
    and a worker restarted mid-stream decides nothing twice for an event already decided."""
    seed = (shared_dir() / "data" / "seed_article.txt").read_text(encoding="utf-8")
    fr_path = publish(feeds, "fr.xml", rss([(SEED_TITLE, "http://127.0.0.1/fr/msft-openai", seed)]))
    config = service_config(  # type: ignore[operator]
        [{"name": "Le Fil", "url": feeds.url(fr_path), "language": "fr"}],
        rules=RULES,
        channels={"log": {"type": "log"}},
    )
    prefix = f"t{service_config.run_id}."  # type: ignore[attr-defined]
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()

    records = await consume(
        kafka.bootstrap, prefix + "news.alerts", expect=3, timeout=90, settle=3.0
    )
    decisions = [json.loads(r.value) for r in records]
    by_rule = {d["rule"]: d for d in decisions}
    assert sorted(by_rule) == ["ai-investments", "layoffs", "microsoft-openai-deals"], decisions
    assert len(decisions) == 3
    deal = by_rule["microsoft-openai-deals"]["event"]
    assert (deal["investor"], deal["target"]) == ("Microsoft", "OpenAI")
    assert deal["amount_usd"] == pytest.approx(1e10, rel=0.01)
    layoff = by_rule["layoffs"]["event"]
    assert (layoff["company"], layoff["headcount"]) == ("Microsoft", 10000)
    assert all(r.key.decode() == json.loads(r.value)["ledger_key"] for r in records)

    # The log channel printed each decision; report how long after the poll it came.
    await service.wait_for_log("microsoft-openai-deals", timeout=30)
    lines = service.log().splitlines()
    polled = next(line for line in lines if "feed polled" in line)
    printed = next(
        line for line in lines if "microsoft-openai-deals" in line and "alert" in line.lower()
    )
    latency = (log_time(printed) - log_time(polled)).total_seconds()
    print(f"poll -> log alert latency: {latency:.3f} s")

    # Restart; a second outlet reports the same deal: the event is updated, nobody re-alerted.
    assert service.stop() == 0
    en_path = publish(
        feeds,
        "en.xml",
        rss(
            [
                (
                    "Microsoft invests $10 billion in ChatGPT maker OpenAI",
                    "http://127.0.0.1/en/msft-openai",
                    "Microsoft is investing $10 billion in OpenAI, the maker of ChatGPT.",
                ),
            ]
        ),
    )
    config2 = service_config(  # type: ignore[operator]
        [
            {"name": "Le Fil", "url": feeds.url(fr_path), "language": "fr"},
            {"name": "Wire EN", "url": feeds.url(en_path), "language": "en"},
        ],
        rules=RULES,
        channels={"log": {"type": "log"}},
    )
    config.write_text(config2.read_text(encoding="utf-8"), encoding="utf-8")
    service.start()
    await service.wait_for_log("feed polled feed=Wire EN", timeout=90)
    events = await consume(
        kafka.bootstrap, prefix + "news.events", expect=1, timeout=30, settle=4.0
    )
    updates = [
        json.loads(r.value) for r in events if json.loads(r.value)["key"] == "deal:microsoft|openai"
    ]
    assert updates[-1]["status"] == "update" and "Wire EN" in updates[-1]["sources"]
    records = await consume(
        kafka.bootstrap, prefix + "news.alerts", expect=3, timeout=10, settle=2.0
    )
    assert len(records) == 3, [json.loads(r.value)["ledger_key"] for r in records]
    await asyncio.sleep(0)
    assert not re.search(r"Traceback", service.log())
