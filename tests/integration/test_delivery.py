"""Alert delivery against real loopback receivers: Slack protocol, signed webhooks, failures."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from newsradar.alerts.delivery import (
    Deliverer,
    DeliveryHooks,
    DeliveryResult,
    DeliverySettings,
    Outcome,
    RetryCause,
)
from newsradar.alerts.webhook import receiver_secret
from newsradar.config import Channel, LogChannel, SlackChannel, WebhookChannel
from newsradar.models import Alert, Event
from newsradar.testing import deal_event
from tests.integration.receivers import (
    SLACK_PATH,
    Receiver,
    Reply,
    SlackReceiver,
    WebhookReceiver,
    closed_port_url,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RAW_SECRET = "not-base64: a plain shared secret!"
#: Small delays so that retry tests take well under a second each.
FAST = DeliverySettings(
    max_attempts=3,
    base_delay_seconds=0.02,
    max_delay_seconds=0.1,
    max_total_delay_seconds=3.0,
    timeout_seconds=2.0,
    rate_per_second={},
    digest_interval_seconds=0.3,
)


def make_event(**kw: Any) -> Event:
    """A new deal event Microsoft -> OpenAI, $10bn, two sources."""
    return deal_event(
        **{
            "stage": "announced",
            "article_ids": ["a1", "a2"],
            "report_count": 2,
            "sources": ["Wire A", "Journal B"],
            "languages": ["en", "fr"],
            "evidence": "Microsoft will invest $10 billion in OpenAI, the companies said.",
            "url": "https://news.example/microsoft-openai",
            **kw,
        }
    )


def make_alert(channels: list[str], **event_kw: Any) -> Alert:
    """The first alert of rule `ai-deals` on an event."""
    event = make_event(**event_kw)
    return Alert(
        ledger_key=f"ai-deals:{event.key}:{event.event_id}",
        rule="ai-deals",
        channels=channels,
        event=event,
        reason="new",
        decided_at=T0,
    )


def update_alert(channels: list[str], version: int, **event_kw: Any) -> Alert:
    """An on_update re-alert (ledger key with :v<version>) changing the amount."""
    event = make_event(
        status="update",
        version=version,
        changed=["amount"],
        amount_usd=1e10 + version * 1e9,
        amount=1e10 + version * 1e9,
        **event_kw,
    )
    return Alert(
        ledger_key=f"ai-deals:{event.key}:{event.event_id}:v{version}",
        rule="ai-deals",
        channels=channels,
        event=event,
        reason="update:amount",
        decided_at=T0 + timedelta(minutes=version),
    )


class CountingHooks(DeliveryHooks):
    """Counts what the metrics hooks are told."""

    def __init__(self) -> None:
        self.outcomes: Counter[tuple[str, Outcome]] = Counter()
        self.retries: Counter[tuple[str, RetryCause]] = Counter()
        self.digests: list[int] = []

    def on_delivery(self, channel: str, channel_type: str, outcome: Outcome, attempts: int) -> None:
        self.outcomes[(channel, outcome)] += 1

    def on_retry(self, channel: str, channel_type: str, cause: RetryCause) -> None:
        self.retries[(channel, cause)] += 1

    def on_digest(self, channel: str, channel_type: str, size: int) -> None:
        self.digests.append(size)


def webhook_channel(url: str, secret: str) -> WebhookChannel:
    """A webhook channel as the config loader builds it."""
    return WebhookChannel.model_validate({"type": "webhook", "url": url, "secret": secret})


@pytest.fixture
async def slack_rx() -> AsyncIterator[SlackReceiver]:
    """A Slack incoming-webhook receiver."""
    async with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture
async def webhook_rx() -> AsyncIterator[WebhookReceiver]:
    """A Standard Webhooks receiver sharing the `whsec_` secret."""
    async with WebhookReceiver(WHSEC) as receiver:
        yield receiver


def channel_for(receiver: Receiver) -> Channel:
    """The config channel pointing at `receiver`."""
    if isinstance(receiver, SlackReceiver):
        return SlackChannel(type="slack", webhook_url=SecretStr(receiver.url))
    assert isinstance(receiver, WebhookReceiver)
    return webhook_channel(receiver.url, WHSEC)


@pytest.fixture(params=["slack", "webhook"])
def receiver(
    request: pytest.FixtureRequest, slack_rx: SlackReceiver, webhook_rx: WebhookReceiver
) -> Receiver:
    """Each receiver kind in turn."""
    return slack_rx if request.param == "slack" else webhook_rx


async def deliver_one(
    receiver: Receiver, alert_channels: list[str] | None = None, **settings: Any
) -> tuple[DeliveryResult, CountingHooks]:
    """Deliver the standard new-deal alert to `receiver` on a fresh Deliverer."""
    hooks = CountingHooks()
    config = FAST.model_copy(update=settings)
    async with Deliverer({"out": channel_for(receiver)}, config, hooks=hooks) as deliverer:
        async with asyncio.timeout(20):  # proves no hang; not a performance assertion
            result = await deliverer.deliver(make_alert(alert_channels or ["out"]), "out")
    return result, hooks


async def test_slack_payload_is_block_kit_with_text_fallback(slack_rx: SlackReceiver) -> None:
    """Slack gets one message whose blocks the SDK's Block Kit models parse back, plus text."""
    result, _ = await deliver_one(slack_rx)
    assert (result.outcome, result.attempts, result.status) == ("delivered", 1, 200)
    [payload] = slack_rx.payloads()
    blocks = Block.parse_all(payload["blocks"])
    assert [type(b) for b in blocks] == [
        HeaderBlock,
        SectionBlock,
        SectionBlock,
        SectionBlock,
        ContextBlock,
    ]
    for block in blocks:
        block.validate_json()
    assert payload["blocks"][0]["text"]["text"] == "New deal: Microsoft -> OpenAI, $10.0B"
    assert payload["text"].startswith("New deal: Microsoft -&gt; OpenAI, $10.0B.")  # mrkdwn-escaped
    assert "<https://news.example/microsoft-openai|Microsoft invests in OpenAI>" in str(payload)
    assert "1 other source" in str(payload)


@pytest.mark.parametrize("secret_form", ["whsec", "raw"])
async def test_webhook_signature_verifies_with_standardwebhooks(secret_form: str) -> None:
    """The POST verifies with standardwebhooks for both secret forms; a wrong secret does not."""
    secret = WHSEC if secret_form == "whsec" else RAW_SECRET
    async with WebhookReceiver(receiver_secret(secret)) as rx:
        channel = webhook_channel(rx.url, secret)
        async with Deliverer({"hook": channel}, FAST) as deliverer:
            alert = make_alert(["hook"])
            result = await deliverer.deliver(alert, "hook")
    assert result.outcome == "delivered"
    [post] = rx.received
    assert post.verified is True
    assert post.headers["webhook-id"] == alert.ledger_key
    assert post.headers["content-type"] == "application/json"
    body = post.json()
    assert body["type"] == "newsradar.alert"
    assert Alert.model_validate(body["data"]) == alert
    raw_key = RAW_SECRET.encode() if secret_form == "raw" else None
    if raw_key is not None:  # the raw secret's bytes verify as well
        assert Webhook(raw_key).verify(post.body, post.headers)["type"] == "newsradar.alert"
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver_secret("some other secret")).verify(post.body, post.headers)


async def test_webhook_wrong_secret_is_rejected_and_not_retried() -> None:
    """A receiver with another secret answers 401: a permanent failure after one attempt."""
    async with WebhookReceiver(receiver_secret("the receiver's secret")) as rx:
        result, _ = await deliver_one(rx)
    assert [r.verified for r in rx.requests] == [False]
    assert (result.outcome, result.attempts, result.status) == ("failed", 1, 401)
    assert result.reason == "HTTP 401: invalid signature; not retryable (1 attempt)"


async def test_server_errors_are_retried_and_the_alert_arrives_once(receiver: Receiver) -> None:
    """500, 500, then 200: three requests, one reception, two counted retries."""
    receiver.script(Reply(500, "internal_error"), Reply(500, "internal_error"))
    result, hooks = await deliver_one(receiver)
    assert (result.outcome, result.attempts, result.status) == ("delivered", 3, 200)
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len(receiver.received) == 1
    assert hooks.retries == Counter({("out", "server_error"): 2})
    assert hooks.outcomes == Counter({("out", "delivered"): 1})
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same message each time
    if isinstance(receiver, WebhookReceiver):  # every retry is signed, with the same id
        assert [r.verified for r in receiver.requests] == [True, True, True]
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


async def test_permanent_error_after_a_retry_is_not_retried(receiver: Receiver) -> None:
    """500 then 404: the 404 ends the delivery, reported as not retryable."""
    receiver.script(Reply(500, "internal_error"), Reply(404, "no_service"))
    result, _ = await deliver_one(receiver, max_attempts=5)
    assert (result.outcome, result.attempts, result.status) == ("failed", 2, 404)
    assert result.reason == "HTTP 404: no_service; not retryable (2 attempts)"
    assert len(receiver.requests) == 2


async def test_retry_after_is_waited_out(receiver: Receiver) -> None:
    """A 429 with Retry-After: 1 delays the next attempt by at least a second."""
    receiver.script(Reply(429, "rate_limited", headers={"Retry-After": "1"}))
    result, hooks = await deliver_one(receiver)
    assert (result.outcome, result.attempts) == ("delivered", 2)
    [gap] = receiver.gaps()
    assert gap >= 0.98, gap
    assert hooks.retries == Counter({("out", "rate_limited"): 1})


async def test_retry_after_beyond_the_budget_fails_at_once(receiver: Receiver) -> None:
    """A Retry-After longer than the retry budget left fails without waiting."""
    receiver.script(Reply(429, "rate_limited", headers={"Retry-After": "120"}))
    result, _ = await deliver_one(receiver)
    assert (result.outcome, result.attempts, result.status) == ("failed", 1, 429)
    assert "Retry-After 120 s exceeds the retry budget left" in (result.reason or "")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("kind", ["slack", "webhook"])
async def test_receiver_down_fails_with_a_reason(kind: str) -> None:
    """A closed port fails after max_attempts with a connection-error reason."""
    if kind == "slack":
        channel: Channel = SlackChannel(
            type="slack", webhook_url=SecretStr(closed_port_url(SLACK_PATH))
        )
    else:
        channel = webhook_channel(closed_port_url(), WHSEC)
    hooks = CountingHooks()
    async with Deliverer({"out": channel}, FAST, hooks=hooks) as deliverer:
        async with asyncio.timeout(20):
            result = await deliverer.deliver(make_alert(["out"]), "out")
    assert (result.outcome, result.attempts, result.status) == ("failed", 3, None)
    assert result.reason is not None
    assert result.reason.startswith("connection error: ")
    assert result.reason.endswith("; gave up after 3 attempts")
    assert hooks.retries == Counter({("out", "connection"): 2})
    assert hooks.outcomes == Counter({("out", "failed"): 1})


async def test_always_500_fails_after_max_attempts(receiver: Receiver) -> None:
    """A receiver answering 500 for longer than the budget gives a failed result."""
    receiver.default = Reply(500, "internal_error")
    result, _ = await deliver_one(receiver)
    assert (result.outcome, result.attempts, result.status) == ("failed", 3, 500)
    assert result.reason == "HTTP 500: internal_error; gave up after 3 attempts"
    assert len(receiver.requests) == 3 and receiver.received == []


async def test_retry_budget_bounds_the_waiting(receiver: Receiver) -> None:
    """With a 0.05 s waiting budget, retries stop when it is spent, before max_attempts."""
    receiver.default = Reply(503, "busy")
    result, _ = await deliver_one(
        receiver, max_attempts=20, base_delay_seconds=0.04, max_total_delay_seconds=0.05
    )
    assert result.outcome == "failed"
    assert 2 <= result.attempts < 20
    assert "retry budget of 0.05 s spent" in (result.reason or "")


async def test_slow_receiver_is_retried_then_failed(receiver: Receiver) -> None:
    """Answers slower than the timeout are retried, then fail with a timeout reason."""
    receiver.default = Reply(200, "ok", delay_seconds=1.5)
    result, hooks = await deliver_one(receiver, timeout_seconds=0.3, max_attempts=2)
    assert (result.outcome, result.attempts) == ("failed", 2)
    assert result.reason == "timeout after 0.3 s; gave up after 2 attempts"
    assert len(receiver.requests) == 2
    assert hooks.retries == Counter({("out", "timeout"): 1})


async def test_slack_no_service_is_permanent(slack_rx: SlackReceiver) -> None:
    """Slack's 404 no_service (a revoked webhook) fails at once with Slack's error code."""
    slack_rx.script(Reply(404, "no_service"))
    result, hooks = await deliver_one(slack_rx)
    assert (result.outcome, result.attempts, result.status) == ("failed", 1, 404)
    assert result.reason == "HTTP 404: no_service; not retryable (1 attempt)"
    assert len(slack_rx.requests) == 1 and not hooks.retries


async def test_three_updates_make_one_digest(receiver: Receiver) -> None:
    """Three updates of one event within the interval reach the receiver as one message."""
    hooks = CountingHooks()
    async with Deliverer({"out": channel_for(receiver)}, FAST, hooks=hooks) as deliverer:
        updates = [update_alert(["out"], v) for v in (2, 3, 4)]
        async with asyncio.timeout(20):
            results = await asyncio.gather(*(deliverer.deliver(a, "out") for a in updates))
    assert [r.outcome for r in results] == ["delivered"] * 3
    assert [r.digest_size for r in results] == [3, 3, 3]
    assert [r.ledger_key for r in results] == [a.ledger_key for a in updates]
    assert len(receiver.requests) == 1 and hooks.digests == [3]
    payload = receiver.requests[0].json()
    if isinstance(receiver, SlackReceiver):
        header = payload["blocks"][0]["text"]["text"]
        assert header == "Update: Microsoft -> OpenAI, $14.0B (3 updates)"
        Block.parse_all(payload["blocks"])
    else:
        assert payload["type"] == "newsradar.alert.digest"
        assert [a["ledger_key"] for a in payload["data"]["alerts"]] == [
            a.ledger_key for a in updates
        ]
        assert receiver.requests[0].headers["webhook-id"].startswith("digest:")


async def test_new_alerts_are_not_held_by_a_digest(slack_rx: SlackReceiver) -> None:
    """A new alert sent while an update digest is open goes out before the digest."""
    settings = FAST.model_copy(update={"digest_interval_seconds": 0.5})
    async with Deliverer({"out": channel_for(slack_rx)}, settings) as deliverer:
        update = asyncio.create_task(deliverer.deliver(update_alert(["out"], 2), "out"))
        await asyncio.sleep(0.05)
        fresh = await deliverer.deliver(make_alert(["out"], event_id="e2"), "out")
        assert fresh.outcome == "delivered"
        assert len(slack_rx.requests) == 1 and not update.done()
        assert (await update).outcome == "delivered"
    headers = [p["blocks"][0]["text"]["text"] for p in slack_rx.payloads()]
    assert headers == [
        "New deal: Microsoft -> OpenAI, $10.0B",
        "Update: Microsoft -> OpenAI, $12.0B",
    ]


async def test_close_sends_open_digests(webhook_rx: WebhookReceiver) -> None:
    """close() sends a digest still waiting for its interval, so shutdown loses nothing."""
    settings = FAST.model_copy(update={"digest_interval_seconds": 60})
    deliverer = Deliverer({"out": channel_for(webhook_rx)}, settings)
    pending = asyncio.create_task(deliverer.deliver(update_alert(["out"], 2), "out"))
    await asyncio.sleep(0.05)
    assert deliverer.digest.pending() == 1
    async with asyncio.timeout(20):
        await deliverer.close()
        result = await pending
    assert result.outcome == "delivered"
    assert len(webhook_rx.received) == 1
    late = await deliverer.deliver(make_alert(["out"]), "out")
    assert (late.outcome, late.reason) == ("failed", "closed")


async def test_rate_limit_spaces_messages(slack_rx: SlackReceiver) -> None:
    """At 5 messages/s (burst 1), consecutive messages arrive at least ~0.2 s apart."""
    settings = FAST.model_copy(update={"rate_per_second": {"slack": 5.0}, "burst": {"slack": 1}})
    async with Deliverer({"out": channel_for(slack_rx)}, settings) as deliverer:
        alerts = [make_alert(["out"], event_id=f"e{i}") for i in range(3)]
        results = await asyncio.gather(*(deliverer.deliver(a, "out") for a in alerts))
    assert all(r.ok for r in results)
    gaps = slack_rx.gaps()
    assert len(gaps) == 2 and min(gaps) >= 0.18, gaps


async def test_log_channel_writes_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """The log channel writes one INFO line with rule, ledger key and headline."""
    caplog.set_level(logging.INFO, logger="newsradar.alerts.log")
    async with Deliverer({"log": LogChannel(type="log")}, FAST) as deliverer:
        alert = make_alert(["log"])
        result = await deliverer.deliver(alert, "log")
    assert (result.outcome, result.attempts) == ("delivered", 1)
    [record] = [r for r in caplog.records if r.name == "newsradar.alerts.log"]
    assert record.getMessage() == (
        f"alert channel=log rule=ai-deals ledger_key={alert.ledger_key} reason=new "
        'headline="New deal: Microsoft -> OpenAI, $10.0B"'
    )
    assert record.alert_rule == "ai-deals"  # type: ignore[attr-defined]


async def test_unknown_or_unnamed_channel(slack_rx: SlackReceiver) -> None:
    """An unknown channel fails; a channel the alert does not name is skipped; nothing is sent."""
    async with Deliverer({"out": channel_for(slack_rx)}, FAST) as deliverer:
        unknown = await deliverer.deliver(make_alert(["out"]), "nope")
        skipped = await deliverer.deliver(make_alert(["elsewhere"]), "out")
    assert (unknown.outcome, unknown.reason) == ("failed", "unknown channel")
    assert (skipped.outcome, skipped.attempts) == ("skipped", 0)
    assert slack_rx.requests == []


async def test_secrets_never_reach_logs_or_results(caplog: pytest.LogCaptureFixture) -> None:
    """Neither the Slack URL's secret path nor the webhook secret shows in logs or results."""
    caplog.set_level(logging.DEBUG)
    results: list[DeliveryResult] = []
    async with SlackReceiver() as slack_ok, WebhookReceiver(WHSEC) as hook_ok:
        slack_ok.script(Reply(500, "internal_error"), Reply(404, "no_service"))
        hook_ok.script(Reply(503, "busy"))
        channels: dict[str, Channel] = {
            "slack-ok": channel_for(slack_ok),
            "slack-down": SlackChannel(
                type="slack", webhook_url=SecretStr(closed_port_url(SLACK_PATH))
            ),
            "slack-bad-url": SlackChannel(
                type="slack", webhook_url=SecretStr("http://[::1" + SLACK_PATH)
            ),
            "hook-ok": channel_for(hook_ok),
            "hook-down": webhook_channel(closed_port_url(), WHSEC),
        }
        async with Deliverer(channels, FAST) as deliverer:
            for name in channels:
                alert = make_alert(list(channels))
                results.append(await deliverer.deliver(alert, name))
                results.append(await deliverer.deliver(alert, name))
    outcomes = Counter(r.outcome for r in results)
    assert outcomes["delivered"] >= 3 and outcomes["failed"] >= 5, results
    assert "channel=slack-down" in caplog.text and "channel=hook-ok" in caplog.text
    token = SLACK_PATH.rsplit("/", 1)[1]
    shown = caplog.text + "".join(repr(r) for r in results)
    for secret in (token, SLACK_PATH, WHSEC, WHSEC.removeprefix("whsec_")):
        assert secret not in shown
