"""Delivery policy on a fake clock: retry decisions, backoff, Retry-After, token bucket, digests."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from pydantic import SecretStr, ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from newsradar.alerts.delivery import (
    Deliverer,
    DeliveryHooks,
    DeliveryResult,
    DeliverySettings,
    RetryBudget,
    RetryCause,
    TokenBucket,
    UpdateDigest,
    classify,
)
from newsradar.alerts.webhook import (
    WebhookPoster,
    build_message,
    receiver_secret,
    signing_key,
    webhook_id,
)
from newsradar.config import WebhookChannel
from newsradar.errors import ConfigError
from newsradar.models import Alert, Event

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic seconds that only move when `sleep` is awaited."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Hooks(DeliveryHooks):
    """Records retries and throttle waits."""

    def __init__(self) -> None:
        self.retries: list[RetryCause] = []
        self.throttled: list[float] = []

    def on_retry(self, channel: str, channel_type: str, cause: RetryCause) -> None:
        self.retries.append(cause)

    def on_throttle(self, channel: str, channel_type: str, seconds: float) -> None:
        self.throttled.append(seconds)


def budget(
    clock: FakeClock,
    *,
    rng: Callable[[], float] = lambda: 1.0,
    bucket: TokenBucket | None = None,
    hooks: DeliveryHooks | None = None,
    **settings: Any,
) -> RetryBudget:
    """A RetryBudget after its first attempt, on the fake clock."""
    config: dict[str, Any] = {"max_attempts": 5, "base_delay_seconds": 1.0, "max_delay_seconds": 3}
    config.update(settings)
    b = RetryBudget(
        DeliverySettings.model_validate(config),
        channel="c",
        channel_type="webhook",
        sleep=clock.sleep,
        rng=rng,
        wall_clock=lambda: NOW,
        bucket=bucket,
        hooks=hooks or DeliveryHooks(),
    )
    b.attempts = 1
    return b


def make_alert(event_id: str = "e1", version: int = 2, key: str = "deal:microsoft|openai") -> Alert:
    """An update re-alert (ledger key with :v<version>)."""
    event = Event(
        event_id=event_id,
        key=key,
        kind="deal",
        status="update",
        version=version,
        changed=["amount"],
        parties=["Microsoft", "OpenAI"],
        investor="Microsoft",
        target="OpenAI",
        amount_usd=1e10,
        first_seen=NOW,
        last_seen=NOW,
        article_ids=["a1"],
        report_count=1,
        sources=["Wire A"],
        languages=["en"],
        evidence="Microsoft invests $10 billion in OpenAI",
        title="Microsoft invests in OpenAI",
    )
    return Alert(
        ledger_key=f"r:{key}:{event_id}:v{version}",
        rule="r",
        channels=["c"],
        event=event,
        reason="update:amount",
        decided_at=NOW,
    )


@pytest.mark.parametrize(
    ("status", "error", "cause"),
    [
        (500, None, "server_error"),
        (503, None, "server_error"),
        (599, None, "server_error"),
        (429, None, "rate_limited"),
        (404, None, None),
        (400, None, None),
        (301, None, None),
        (200, None, None),
        (None, TimeoutError(), "timeout"),
        (None, aiohttp.ServerTimeoutError(), "timeout"),
        (None, aiohttp.ServerDisconnectedError(), "connection"),
        (None, aiohttp.ClientOSError(104, "reset"), "connection"),
        (None, ConnectionResetError(), "connection"),
        (None, aiohttp.InvalidURL("x"), None),
        (None, ValueError("x"), None),
    ],
)
def test_classify(status: int | None, error: BaseException | None, cause: str | None) -> None:
    """5xx, 429, timeouts and connection errors are retried; other answers and errors are not."""
    assert classify(status, error) == cause


async def test_backoff_doubles_up_to_the_cap() -> None:
    """Waits double from base_delay and stop growing at max_delay (rng=1: whole steps)."""
    clock = FakeClock()
    b = budget(clock, max_attempts=6, max_total_delay_seconds=100)
    delays = []
    while (delay := b.plan(status=500)) is not None:
        delays.append(delay)
        await b.wait()
    assert delays == [1.0, 2.0, 3.0, 3.0, 3.0]
    assert b.attempts == 6 and b.stopped == "gave up after 6 attempts"
    assert clock.sleeps == delays


def test_jitter_never_goes_below_half_a_step() -> None:
    """With rng=0 each wait is half its exponential step (equal jitter)."""
    b = budget(FakeClock(), rng=lambda: 0.0)
    assert b.plan(error=TimeoutError()) == 0.5


async def test_total_delay_budget_clips_then_stops() -> None:
    """The last wait is clipped to what is left of max_total_delay, then retrying stops."""
    clock = FakeClock()
    b = budget(clock, max_total_delay_seconds=2.5)
    assert b.plan(status=502) == 1.0
    await b.wait()
    assert b.plan(status=502) == 1.5
    await b.wait()
    assert b.plan(status=502) is None
    assert b.stopped == "retry budget of 2.5 s spent after 3 attempts"
    assert b.failure("HTTP 502") == "HTTP 502; retry budget of 2.5 s spent after 3 attempts"


def test_retry_after_seconds_and_dates_are_honoured() -> None:
    """Retry-After in seconds or as an HTTP date sets the wait (plus at most base/2 jitter)."""
    b = budget(FakeClock(), rng=lambda: 0.0, max_total_delay_seconds=60)
    assert b.plan(status=429, retry_after="7") == 7.0
    date = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    assert b.plan(status=429, retry_after=date) == 12.0
    jittered = budget(FakeClock(), rng=lambda: 1.0, max_total_delay_seconds=60)
    assert jittered.plan(status=429, retry_after="7") == 7.5
    assert budget(FakeClock()).plan(status=429, retry_after="soon") == 1.0  # garbage: backoff


def test_retry_after_beyond_the_budget_stops_at_once() -> None:
    """A Retry-After longer than the budget left is not shortened: retrying stops."""
    b = budget(FakeClock(), max_total_delay_seconds=10)
    assert b.plan(status=429, retry_after="3600") is None
    assert b.stopped == "Retry-After 3600 s exceeds the retry budget left (10.0 s) after 1 attempt"


def test_permanent_failures_say_so() -> None:
    """A 404 is not retried and the reason says it is not retryable."""
    b = budget(FakeClock())
    assert b.plan(status=404) is None
    assert b.last_cause is None and b.stopped is None
    assert b.failure("HTTP 404: no_service") == "HTTP 404: no_service; not retryable (1 attempt)"


async def test_wait_counts_retries_and_takes_a_token() -> None:
    """wait() sleeps the planned delay, reports the cause, takes a rate-limit token."""
    clock = FakeClock()
    hooks = Hooks()
    bucket = TokenBucket(1.0, 1, clock=clock, sleep=clock.sleep)
    b = budget(clock, bucket=bucket, hooks=hooks, base_delay_seconds=0.25, rng=lambda: 1.0)
    await b.start()  # takes the only token
    assert b.plan(error=TimeoutError()) == 0.25
    await b.wait()
    assert hooks.retries == ["timeout"]
    assert clock.sleeps == [0.25, 0.75]  # backoff, then the rest of the token's second
    assert hooks.throttled == [0.75]
    assert b.attempts == 2 and b.waited_seconds == 0.25
    with pytest.raises(RuntimeError):
        await b.wait()  # nothing planned


async def test_token_bucket_rate_and_burst() -> None:
    """A burst of `capacity` passes at once; later tokens come every 1/rate seconds."""
    clock = FakeClock()
    bucket = TokenBucket(2.0, 3, clock=clock, sleep=clock.sleep)
    waits = [await bucket.acquire() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 0.5]
    clock.now += 10  # idle time refills only up to capacity
    assert [await bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_token_bucket_rejects_nonsense() -> None:
    """A zero rate or capacity is a programming error."""
    clock = FakeClock()
    with pytest.raises(ValueError):
        TokenBucket(0, 1, clock=clock, sleep=clock.sleep)


class Gate:
    """A sleep that returns only when the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await self.opened.wait()


class Sink:
    """A digest sender that records batches; optionally raises."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.fail = fail

    async def send(self, channel: str, alerts: list[Alert]) -> list[DeliveryResult]:
        self.batches.append((channel, [a.ledger_key for a in alerts]))
        if self.fail:
            raise RuntimeError("boom")
        return [
            DeliveryResult(channel, a.ledger_key, "delivered", 1, digest_size=len(alerts))
            for a in alerts
        ]


async def test_digest_folds_updates_of_one_event_per_channel() -> None:
    """Three updates of e1 on one channel make one batch; e2 and another channel get theirs."""
    gate, sink = Gate(), Sink()
    digest = UpdateDigest(60, 20, sink.send, sleep=gate.sleep)
    tasks = [asyncio.create_task(digest.add("c", make_alert("e1", v))) for v in (2, 3, 4)] + [
        asyncio.create_task(digest.add("c", make_alert("e2", 2))),
        asyncio.create_task(digest.add("d", make_alert("e1", 2))),
    ]
    await asyncio.sleep(0)
    assert digest.pending() == 5 and sink.batches == []
    gate.opened.set()
    results = await asyncio.gather(*tasks)
    assert sorted(sink.batches) == [
        ("c", [f"r:deal:microsoft|openai:e1:v{v}" for v in (2, 3, 4)]),
        ("c", ["r:deal:microsoft|openai:e2:v2"]),
        ("d", ["r:deal:microsoft|openai:e1:v2"]),
    ]
    assert gate.sleeps == [60, 60, 60]
    assert [r.digest_size for r in results] == [3, 3, 3, 1, 1]
    assert [r.ledger_key for r in results[:3]] == [
        f"r:deal:microsoft|openai:e1:v{v}" for v in (2, 3, 4)
    ]
    assert digest.pending() == 0


async def test_digest_flushes_early_when_full() -> None:
    """Reaching max_alerts sends the batch without waiting for the interval."""
    gate, sink = Gate(), Sink()
    digest = UpdateDigest(60, 2, sink.send, sleep=gate.sleep)
    results = await asyncio.gather(*(digest.add("c", make_alert("e1", v)) for v in (2, 3)))
    assert [r.outcome for r in results] == ["delivered", "delivered"]
    assert len(sink.batches) == 1 and not gate.opened.is_set()


async def test_digest_flush_sends_now_and_failures_reach_every_waiter() -> None:
    """flush() sends open batches at once; a raising sender fails each alert with a reason."""
    gate, sink = Gate(), Sink(fail=True)
    digest = UpdateDigest(60, 20, sink.send, sleep=gate.sleep)
    tasks = [asyncio.create_task(digest.add("c", make_alert("e1", v))) for v in (2, 3)]
    await asyncio.sleep(0)
    await digest.flush()
    results = await asyncio.gather(*tasks)
    assert [r.outcome for r in results] == ["failed", "failed"]
    assert results[0].reason == "internal error: RuntimeError"
    assert len(sink.batches) == 1


async def test_duplicate_alert_in_a_digest_is_sent_once() -> None:
    """The same ledger key delivered twice in one window is in the batch once."""
    gate, sink = Gate(), Sink()
    digest = UpdateDigest(60, 20, sink.send, sleep=gate.sleep)
    tasks = [asyncio.create_task(digest.add("c", make_alert("e1", 2))) for _ in range(2)]
    await asyncio.sleep(0)
    gate.opened.set()
    results = await asyncio.gather(*tasks)
    assert sink.batches == [("c", ["r:deal:microsoft|openai:e1:v2"])]
    assert results[0] == results[1]


WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_signing_key_forms() -> None:
    """whsec_ secrets are base64-decoded; any other string is used as UTF-8 bytes."""
    assert signing_key(WHSEC) == b"0123456789abcdef0123456789abcdef"
    assert signing_key("plain secret") == b"plain secret"
    assert receiver_secret(WHSEC) == WHSEC
    assert signing_key(receiver_secret("plain secret")) == b"plain secret"


@pytest.mark.parametrize("secret", ["whsec_not*base64!", "whsec_", ""])
def test_bad_secrets_are_refused_without_echoing_them(secret: str) -> None:
    """An undecodable or empty secret raises an error that does not contain it."""
    with pytest.raises(ValueError) as info:
        signing_key(secret)
    assert "base64!" not in str(info.value)


def test_deliverer_refuses_a_bad_webhook_secret_as_config_error() -> None:
    """A broken secret fails at construction with a ConfigError naming the key, not the value."""
    channel = WebhookChannel.model_validate(
        {"type": "webhook", "url": "http://127.0.0.1:9/h", "secret": "whsec_%%%%secretish"}
    )
    with pytest.raises(ConfigError) as info:
        Deliverer({"hook": channel})
    assert info.value.key == "channels.hook.secret"
    assert "secretish" not in str(info.value)


def test_signed_headers_verify_and_tampering_fails() -> None:
    """Headers from WebhookPoster verify with standardwebhooks; a changed body does not."""
    poster = WebhookPoster("hook", "http://127.0.0.1:9/h", SecretStr(WHSEC))
    message = build_message([make_alert()])
    headers = poster.headers(message, datetime.now(UTC))
    assert Webhook(WHSEC).verify(message.body, headers)["type"] == "newsradar.alert"
    with pytest.raises(WebhookVerificationError):
        Webhook(WHSEC).verify(message.body.replace("Microsoft", "Micr0soft"), headers)


def test_signature_timestamp_is_independent_of_the_time_zone() -> None:
    """A non-UTC aware time signs the same instant as its UTC equivalent."""
    poster = WebhookPoster("hook", "http://127.0.0.1:9/h", SecretStr(WHSEC))
    message = build_message([make_alert()])
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert poster.headers(message, paris) == poster.headers(message, NOW)


def test_webhook_id_is_the_ledger_key_and_ascii() -> None:
    """webhook-id is the ledger key, percent-encoded where not ASCII; digests hash their keys."""
    assert webhook_id([make_alert()]) == "r:deal:microsoft|openai:e1:v2"
    accented = webhook_id([make_alert(key="deal:société-générale|mistral")])
    assert accented == "r:deal:soci%C3%A9t%C3%A9-g%C3%A9n%C3%A9rale|mistral:e1:v2"
    assert accented.isascii()
    one, two = make_alert(version=2), make_alert(version=3)
    assert webhook_id([one, two]) == webhook_id([two, one])
    assert webhook_id([one, two]).startswith("digest:") and len(webhook_id([one, two])) == 39


def test_webhook_body_shapes() -> None:
    """One alert: type newsradar.alert with the Alert; a digest: its alerts oldest first."""
    one, two = make_alert(version=2), make_alert(version=3)
    single = json.loads(build_message([one]).body)
    assert single["type"] == "newsradar.alert"
    assert single["timestamp"] == NOW.isoformat()
    assert Alert.model_validate(single["data"]) == one
    digest = json.loads(build_message([two, one]).body)
    assert digest["type"] == "newsradar.alert.digest"
    assert digest["data"]["event_id"] == "e1"
    assert [a["ledger_key"] for a in digest["data"]["alerts"]] == [one.ledger_key, two.ledger_key]


def test_settings_are_validated() -> None:
    """Nonsense settings are rejected by the model."""
    with pytest.raises(ValidationError):
        DeliverySettings(max_attempts=0)
    with pytest.raises(ValidationError):
        DeliverySettings(timeout_seconds=0)
