"""Dead-lettered deliveries, replayed once the receiver is back; and `replay --deliver`."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
import yaml

from newsradar.broker import EmbeddedBroker

from .conftest import Service, consume, publish, run_cli, wait_until
from .feedserver import FeedServer
from .receivers import Reply, WebhookReceiver
from .test_pipeline_service import SEED_TITLE, rss, shared_dir

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(b"dlq-replay-test-secret-0123456789").decode()
RULE = {"name": "layoffs", "kind": "layoff", "min_headcount": 1000, "channels": ["hooks"]}


async def test_failed_delivery_is_dead_lettered_and_replayed_once(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """A receiver down beyond the retry budget gives a DLQ entry; `dlq replay` delivers it
    once the receiver is back, and a second replay sends nothing."""
    seed = (shared_dir() / "data" / "seed_article.txt").read_text(encoding="utf-8")
    path = publish(feeds, "fr.xml", rss([(SEED_TITLE, "http://127.0.0.1/fr/msft-openai", seed)]))
    async with WebhookReceiver(SECRET, default=Reply(503, "down")) as hooks:
        config = service_config(  # type: ignore[operator]
            [{"name": "Le Fil", "url": feeds.url(path), "language": "fr"}],
            rules=[RULE],
            channels={"hooks": {"type": "webhook", "url": hooks.url, "secret": SECRET}},
            delivery={
                "max_attempts": 2,
                "base_delay_seconds": 0.1,
                "max_total_delay_seconds": 0.5,
                "rate_per_second": {},
            },
        )
        prefix = f"t{service_config.run_id}."  # type: ignore[attr-defined]
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()

        letters = await consume(kafka.bootstrap, prefix + "news.dlq", expect=1, timeout=90)
        letter = json.loads(letters[0].value)
        assert letter["stage"] == "deliver" and "hooks" in letter["reason"]
        assert "503" in letter["reason"] and SECRET not in letters[0].value.decode()
        assert len(hooks.requests) == 2 and not hooks.received

        listed = await run_cli("dlq", "list", "--config", str(config))
        assert listed.returncode == 0, listed.stderr
        assert "1 dead letters" in listed.stdout

        hooks.default = Reply(200, "ok")
        first = await run_cli("dlq", "replay", "--config", str(config))
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout.splitlines()[-1])["resent"] == 1
        await wait_until(lambda: len(hooks.received) == 1, 60)
        assert hooks.received[0].headers["webhook-id"] == letter["key"]

        second = await run_cli("dlq", "replay", "--config", str(config))
        assert json.loads(second.stdout.splitlines()[-1])["resent"] == 0
        await asyncio.sleep(3)
        assert len(hooks.received) == 1


async def test_replay_deliver_sends_decisions_through_the_channels(tmp_path: Path) -> None:
    """`replay --deliver` of the seed article sends the layoff alert to the webhook, signed."""
    seed = (shared_dir() / "data" / "seed_article.txt").read_text(encoding="utf-8")
    item = {
        "id": "seed",
        "title": SEED_TITLE,
        "summary": seed,
        "published": "2023-01-23",
        "source": "seed",
    }
    news = tmp_path / "seed.jsonl"
    news.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    async with WebhookReceiver(SECRET) as hooks:
        config = tmp_path / "replay.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "rules": [RULE],
                    "channels": {"hooks": {"type": "webhook", "url": hooks.url, "secret": SECRET}},
                }
            ),
            encoding="utf-8",
        )
        result = await run_cli("replay", str(news), "--config", str(config), "--deliver")
        assert result.returncode == 0, result.stderr
        assert "[layoffs] new" in result.stdout
        assert len(hooks.received) == 1 and hooks.received[0].verified
        assert hooks.payloads()[0]["data"]["event"]["headcount"] == 10000
