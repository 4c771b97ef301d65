"""Alerts delivered by the running service to loopback Slack and Standard-Webhooks receivers."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from newsradar.broker import EmbeddedBroker

from .conftest import Service, publish, wait_until
from .feedserver import FeedServer
from .receivers import SlackReceiver, WebhookReceiver
from .test_pipeline_service import SEED_TITLE, rss, shared_dir

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(b"loopback-test-secret-0123456789").decode()


async def test_seed_article_reaches_slack_and_webhook_once_each_signed(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: object,
    services: list[Service],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed article's deal reaches Slack (valid Block Kit) and the webhook (verified) once
    each, the layoff too, and neither a restart nor a second poll sends anything again."""
    seed = (shared_dir() / "data" / "seed_article.txt").read_text(encoding="utf-8")
    path = publish(feeds, "fr.xml", rss([(SEED_TITLE, "http://127.0.0.1/fr/msft-openai", seed)]))
    async with SlackReceiver() as slack, WebhookReceiver(SECRET) as hooks:
        monkeypatch.setenv("TEST_SLACK_URL", slack.url)
        monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
        config = service_config(  # type: ignore[operator]
            [{"name": "Le Fil", "url": feeds.url(path), "language": "fr"}],
            rules=[
                {
                    "name": "microsoft-openai-deals",
                    "kind": "deal",
                    "parties_all": ["Microsoft", "OpenAI"],
                    "channels": ["slack", "hooks"],
                },
                {
                    "name": "layoffs",
                    "kind": "layoff",
                    "min_headcount": 1000,
                    "channels": ["slack", "hooks"],
                },
            ],
            channels={
                "slack": {"type": "slack", "webhook_url": "${TEST_SLACK_URL}"},
                "hooks": {"type": "webhook", "url": hooks.url, "secret": "${TEST_HOOK_SECRET}"},
            },
            delivery={"rate_per_second": {}},
        )
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()
        await wait_until(lambda: len(slack.received) >= 2 and len(hooks.received) >= 2, 90)

        # Slack: valid Block Kit that the SDK parses back, with a text fallback.
        headlines = sorted(p["blocks"][0]["text"]["text"] for p in slack.payloads())
        assert headlines == [
            "Layoffs: Microsoft, 10,000 jobs",
            "New deal: Microsoft -> OpenAI, $10.0B",
        ]
        for payload in slack.payloads():
            assert payload["text"]
            assert all(block is not None for block in Block.parse_all(payload["blocks"]))

        # Webhooks: every request verified with the standardwebhooks library; id = ledger key.
        assert all(r.verified for r in hooks.requests)
        ids = sorted(r.headers["webhook-id"] for r in hooks.received)
        rules = sorted(p["data"]["rule"] for p in hooks.payloads())
        assert rules == ["layoffs", "microsoft-openai-deals"]
        assert ids == sorted(p["data"]["ledger_key"] for p in hooks.payloads())
        deal = next(p["data"] for p in hooks.payloads() if p["data"]["rule"] != "layoffs")
        assert deal["event"]["amount_usd"] == pytest.approx(1e10, rel=0.01)

        # A restart and more polls deliver nothing twice (the ledger survives in its changelog).
        assert service.stop() == 0
        service.start()
        await service.started()
        polls = feeds.count(path)
        await wait_until(lambda: feeds.count(path) >= polls + 2, 60)
        assert len(slack.requests) == 2 and len(hooks.requests) == 2

        # The secrets never reached the log.
        log = service.log()
        assert slack.url not in log and "s3cr3tT0ken" not in log
        assert SECRET not in log and SECRET.removeprefix("whsec_") not in log
        assert os.environ["TEST_HOOK_SECRET"] == SECRET
