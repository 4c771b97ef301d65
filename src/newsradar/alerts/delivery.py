"""Alert delivery: one awaitable call per (alert, channel), with retries, rate limits and digests.

`Deliverer(channels, settings)` is built from the config's channels; the alerts
agent calls `await deliverer.deliver(alert, channel_name)` and gets a
`DeliveryResult` (delivered | failed | skipped, attempts, reason, status). It
never raises for a delivery problem: a failed result carries a reason fit for
news.dlq, and no secret (Slack webhook URLs, webhook secrets) ever appears in
a reason, a log line or a metric label; logs name the channel.

Policy, per message:

- retried: timeouts, connection errors, HTTP 5xx, HTTP 429 (honouring
  Retry-After, seconds or HTTP date); exponential backoff with equal jitter
  (`base_delay_seconds` × 2^n, each step capped at `max_delay_seconds`, drawn from
  [half, whole] of the step); at most `max_attempts` attempts and at most
  `max_total_delay_seconds` of waiting in all. A Retry-After longer than the
  budget left fails at once (waiting less would disobey the receiver).
  Worst case per message: max_attempts × timeout_seconds + max_total_delay_seconds
  (+ rate-limit waits).
- not retried: other 4xx (and 3xx: redirects are not followed for webhooks), other
  client errors (e.g. an invalid URL): permanent failure with the reason.
- rate limit: one token bucket per channel (`rate_per_second` and `burst` per
  channel type; Slack incoming webhooks allow about one message per second);
  every attempt, retries included, takes a token. The log channel is not limited.
- update digest: re-alerts on updates (`slack.is_update`) to the same channel
  for the same event are folded: the first opens a window of
  `digest_interval_seconds`, later ones join it, and one message is sent when
  it closes (or when `digest_max_alerts` have joined). `deliver()` of an update
  returns when that message is delivered or has failed, so the caller commits
  offsets only after the outcome is known; to let updates group, run deliveries
  concurrently (one task per alert). New alerts are never delayed. The log
  channel writes every alert at once.

Hooks (`DeliveryHooks`) count outcomes per alert, retries per cause, throttle
waits and digest sizes; the caller maps them to Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Literal, Self

import aiohttp

from newsradar.alerts import slack, webhook
from newsradar.alerts.logchannel import log_alert
from newsradar.config import Channel, DeliverySettings, LogChannel, SlackChannel, WebhookChannel
from newsradar.errors import ConfigError
from newsradar.ingest.schedule import backoff_seconds, parse_retry_after
from newsradar.models import Alert, utcnow

__all__ = [
    "Deliverer",
    "DeliveryHooks",
    "DeliveryResult",
    "DeliverySettings",
    "Outcome",
    "RetryBudget",
    "RetryCause",
    "TokenBucket",
    "UpdateDigest",
    "classify",
]

log = logging.getLogger(__name__)

Outcome = Literal["delivered", "failed", "skipped"]
RetryCause = Literal["timeout", "connection", "server_error", "rate_limited"]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of delivering one alert to one channel.

    `attempts` counts HTTP attempts (0 when nothing was sent); `status` is the last
    HTTP status seen (None for the log channel or without an answer); `reason`
    says why it failed or was skipped (None when delivered); `digest_size` is the
    number of alerts the message carried (1 unless an update digest).
    """

    channel: str
    ledger_key: str
    outcome: Outcome
    attempts: int = 0
    reason: str | None = None
    status: int | None = None
    digest_size: int = 1
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when delivered."""
        return self.outcome == "delivered"


class DeliveryHooks:
    """Callbacks for metrics; subclass and override what you count. Labels carry no secret."""

    def on_delivery(self, channel: str, channel_type: str, outcome: Outcome, attempts: int) -> None:
        """Once per alert and channel, with its final outcome."""

    def on_retry(self, channel: str, channel_type: str, cause: RetryCause) -> None:
        """Once per retry (a further attempt), with what caused it."""

    def on_throttle(self, channel: str, channel_type: str, seconds: float) -> None:
        """When the channel's rate limit made an attempt wait."""

    def on_digest(self, channel: str, channel_type: str, size: int) -> None:
        """Once per update digest sent, with the number of alerts it folds."""


def classify(status: int | None = None, error: BaseException | None = None) -> RetryCause | None:
    """What makes a failed attempt worth retrying, or None when it is permanent (or not failed)."""
    if error is not None:
        if isinstance(error, TimeoutError):  # before OSError: TimeoutError is one
            return "timeout"
        if isinstance(error, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            return "connection"
        if isinstance(error, ConnectionError):
            return "connection"
        return None
    if status == 429:
        return "rate_limited"
    if status is not None and 500 <= status <= 599:
        return "server_error"
    return None


class TokenBucket:
    """A token bucket: `rate` tokens per second, at most `capacity` saved; FIFO waiters."""

    def __init__(self, rate: float, capacity: int = 1, *, clock: Clock, sleep: Sleep) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                delay = (1.0 - self._tokens) / self.rate
                await self._sleep(delay)
                waited += delay


class RetryBudget:
    """The attempts of one message: plans each wait, enforces the limits, counts retries.

    It is the `slack.RetryGate` the SDK's retry handler consults, and the loop
    state of the webhook sender. `stopped` says why retrying stopped when the
    limits (not the kind of failure) ended it.
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        channel: str,
        channel_type: str,
        sleep: Sleep,
        rng: Callable[[], float],
        wall_clock: Callable[[], datetime],
        bucket: TokenBucket | None,
        hooks: DeliveryHooks,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.channel_type = channel_type
        self.attempts = 0
        self.waited_seconds = 0.0
        self.last_cause: RetryCause | None = None
        self.stopped: str | None = None
        self._sleep = sleep
        self._rng = rng
        self._wall_clock = wall_clock
        self._bucket = bucket
        self._hooks = hooks
        self._next: tuple[RetryCause, float] | None = None

    async def start(self) -> None:
        """Before the first attempt: take a rate-limit token."""
        await self._take_token()
        self.attempts = 1

    async def _take_token(self) -> None:
        if self._bucket is None:
            return
        waited = await self._bucket.acquire()
        if waited > 0:
            _call(self._hooks.on_throttle, self.channel, self.channel_type, waited)

    def plan(
        self,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        retry_after: str | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None: stop (see `stopped`, `last_cause`)."""
        cause = classify(status, error)
        self.last_cause = cause
        self._next = None
        if cause is None:
            return None
        s = self.settings
        if self.attempts >= s.max_attempts:
            self.stopped = f"gave up after {_n(self.attempts, 'attempt')}"
            return None
        remaining = max(0.0, s.max_total_delay_seconds - self.waited_seconds)
        wait_for = None
        if cause == "rate_limited":
            wait_for = parse_retry_after(retry_after, now=self._wall_clock())
        if wait_for is not None:
            if wait_for > remaining:
                self.stopped = (
                    f"Retry-After {wait_for:g} s exceeds the retry budget left "
                    f"({remaining:.1f} s) after {_n(self.attempts, 'attempt')}"
                )
                return None
            jitter = self._rng() * min(s.base_delay_seconds, 1.0) / 2
            delay = min(wait_for + jitter, remaining)
        else:
            if remaining <= 0:
                self.stopped = (
                    f"retry budget of {s.max_total_delay_seconds:g} s spent "
                    f"after {_n(self.attempts, 'attempt')}"
                )
                return None
            step = backoff_seconds(
                self.attempts, base=s.base_delay_seconds, cap=s.max_delay_seconds, rng=self._rng
            )
            delay = min(step, remaining)
        self._next = (cause, delay)
        return delay

    async def wait(self) -> None:
        """Wait the planned delay, take a rate-limit token, count the retry."""
        if self._next is None:
            raise RuntimeError("RetryBudget.wait() without a planned retry")
        cause, delay = self._next
        self._next = None
        _call(self._hooks.on_retry, self.channel, self.channel_type, cause)
        log.info(
            "delivery retry channel=%s cause=%s attempt=%d retry_delay_seconds=%.3f",
            self.channel,
            cause,
            self.attempts + 1,
            delay,
        )
        await self._sleep(delay)
        self.waited_seconds += delay
        await self._take_token()
        self.attempts += 1

    def failure(self, what: str) -> str:
        """The reason of a failed message: what happened, then why it was not tried again."""
        if self.last_cause is None:
            return f"{what}; not retryable ({_n(self.attempts, 'attempt')})"
        return f"{what}; {self.stopped or 'gave up after ' + _n(self.attempts, 'attempt')}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _call(hook: Callable[..., None], *args: object) -> None:
    """Call a metrics hook; a broken hook is logged, never allowed to break a delivery."""
    try:
        hook(*args)
    except Exception as exc:
        log.warning(
            "delivery hook %s failed: %s", getattr(hook, "__name__", hook), type(exc).__name__
        )


def _describe(error: BaseException, timeout_seconds: float) -> str:
    """A short, secret-free description of a transport error (the caller still redacts)."""
    if isinstance(error, TimeoutError):
        return f"timeout after {timeout_seconds:g} s"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "connection error: DNS lookup failed"
    if isinstance(error, aiohttp.ClientConnectorError):
        os_error = error.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "connection error: connection refused"
        if isinstance(os_error, ConnectionResetError):
            return "connection error: connection reset"
        return f"connection error: {os_error.strerror or type(os_error).__name__}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "connection error: server disconnected"
    if isinstance(error, aiohttp.ClientConnectionError | ConnectionError):
        return f"connection error: {type(error).__name__}"
    if isinstance(error, aiohttp.InvalidURL):
        return "invalid URL"
    return f"{type(error).__name__}: {error}"


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


@dataclass(frozen=True, slots=True)
class _Sent:
    """The outcome of one message (one alert, or one digest)."""

    outcome: Outcome
    attempts: int
    reason: str | None = None
    status: int | None = None


SendBatch = Callable[[str, list[Alert]], Awaitable[list[DeliveryResult]]]


@dataclass(slots=True)
class _Batch:
    channel: str
    done: asyncio.Future[dict[str, DeliveryResult]]
    alerts: list[Alert] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    flushing: bool = False


class UpdateDigest:
    """Folds update alerts per (channel, event_id) into one message per interval.

    `add()` returns the alert's own result once the digest holding it was sent.
    """

    def __init__(
        self, interval_seconds: float, max_alerts: int, send: SendBatch, *, sleep: Sleep
    ) -> None:
        self.interval_seconds = interval_seconds
        self.max_alerts = max_alerts
        self._send = send
        self._sleep = sleep
        self._open: dict[tuple[str, str], _Batch] = {}

    def pending(self) -> int:
        """Alerts waiting in open digests."""
        return sum(len(batch.alerts) for batch in self._open.values())

    async def add(self, channel: str, alert: Alert) -> DeliveryResult:
        """Put `alert` into its digest and wait for the digest's outcome."""
        key = (channel, alert.event.event_id)
        batch = self._open.get(key)
        if batch is None:
            batch = _Batch(channel, asyncio.get_running_loop().create_future())
            self._open[key] = batch
            batch.task = asyncio.create_task(self._flush_later(key, batch))
        if all(a.ledger_key != alert.ledger_key for a in batch.alerts):
            batch.alerts.append(alert)
        if len(batch.alerts) >= self.max_alerts and not batch.flushing:
            if batch.task is not None:
                batch.task.cancel()
            batch.task = asyncio.create_task(self._flush(key, batch))
        results = await asyncio.shield(batch.done)
        return results[alert.ledger_key]

    async def _flush_later(self, key: tuple[str, str], batch: _Batch) -> None:
        await self._sleep(self.interval_seconds)
        await self._flush(key, batch)

    async def _flush(self, key: tuple[str, str], batch: _Batch) -> None:
        if batch.flushing:
            return
        batch.flushing = True
        if self._open.get(key) is batch:
            del self._open[key]
        alerts = list(batch.alerts)
        try:
            results = await self._send(batch.channel, alerts)
        except Exception as exc:  # the sender should not raise; never leave waiters hanging
            log.warning("digest send error channel=%s error=%s", batch.channel, type(exc).__name__)
            results = [
                DeliveryResult(
                    channel=batch.channel,
                    ledger_key=a.ledger_key,
                    outcome="failed",
                    reason=f"internal error: {type(exc).__name__}",
                    digest_size=len(alerts),
                )
                for a in alerts
            ]
        if not batch.done.done():
            batch.done.set_result({r.ledger_key: r for r in results})

    async def flush(self) -> None:
        """Send every open digest now (on shutdown) and wait for them."""
        batches = list(self._open.items())
        for _key, batch in batches:
            if batch.task is not None and not batch.flushing:
                batch.task.cancel()
        await asyncio.gather(*(self._flush(key, batch) for key, batch in batches))
        await asyncio.gather(*(asyncio.shield(batch.done) for _key, batch in batches))


class Deliverer:
    """Delivers alerts to the configured channels (see the module docstring for the policy).

    `sleep`, `clock` (monotonic seconds), `wall_clock` (aware UTC datetimes, for
    Retry-After dates and webhook timestamps) and `rng` are injectable for tests;
    `session` too (its owner closes it; its timeout then applies to Slack posts).
    Raises ConfigError at construction for an unusable webhook secret.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        settings: DeliverySettings | None = None,
        *,
        hooks: DeliveryHooks | None = None,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings or DeliverySettings()
        self.channels = dict(channels)
        self.hooks = hooks or DeliveryHooks()
        self._session = session
        self._own_session = session is None
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng
        self._closed = False
        self._slack: dict[str, slack.SlackPoster] = {}
        self._webhooks: dict[str, webhook.WebhookPoster] = {}
        self._buckets: dict[str, TokenBucket] = {}
        for name, channel in self.channels.items():
            if isinstance(channel, SlackChannel):
                self._slack[name] = slack.SlackPoster(name, channel.webhook_url)
            elif isinstance(channel, WebhookChannel):
                try:
                    self._webhooks[name] = webhook.WebhookPoster(
                        name, str(channel.url), channel.secret
                    )
                except ValueError as exc:
                    raise ConfigError("<channels>", f"channels.{name}.secret", str(exc)) from None
            rate = self.settings.rate_per_second.get(channel.type, 0.0)
            if rate > 0 and not isinstance(channel, LogChannel):
                capacity = self.settings.burst.get(channel.type, 1)
                self._buckets[name] = TokenBucket(rate, capacity, clock=clock, sleep=sleep)
        self.digest = UpdateDigest(
            self.settings.digest_interval_seconds,
            self.settings.digest_max_alerts,
            self._send_batch,
            sleep=sleep,
        )

    # -- lifecycle -----------------------------------------------------------
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def flush(self) -> None:
        """Send the open update digests now."""
        await self.digest.flush()

    async def close(self) -> None:
        """Send open digests, then close the HTTP session if this deliverer made it."""
        if self._closed:
            return
        self._closed = True  # refuse new deliveries from here on
        await self.digest.flush()
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
            )
            self._own_session = True
        return self._session

    # -- delivering ----------------------------------------------------------
    async def deliver(self, alert: Alert, channel_name: str) -> DeliveryResult:
        """Deliver `alert` to the channel named `channel_name`; never raises for delivery errors."""
        channel = self.channels.get(channel_name)
        if channel is None:
            result = DeliveryResult(
                channel_name, alert.ledger_key, "failed", reason="unknown channel"
            )
            self._report(result, "unknown")
            return result
        if self._closed:
            result = DeliveryResult(channel_name, alert.ledger_key, "failed", reason="closed")
            self._report(result, channel.type)
            return result
        if channel_name not in alert.channels:
            result = DeliveryResult(
                channel_name, alert.ledger_key, "skipped", reason="alert does not name channel"
            )
            self._report(result, channel.type)
            return result
        if isinstance(channel, LogChannel):
            log_alert(alert, channel_name)
            result = DeliveryResult(channel_name, alert.ledger_key, "delivered", attempts=1)
            self._report(result, channel.type)
            return result
        if self.settings.digest_interval_seconds > 0 and slack.is_update(alert):
            return await self.digest.add(channel_name, alert)
        return (await self._send_batch(channel_name, [alert]))[0]

    def _report(self, result: DeliveryResult, channel_type: str) -> None:
        _call(self.hooks.on_delivery, result.channel, channel_type, result.outcome, result.attempts)
        if result.outcome == "failed":
            log.warning(
                "delivery failed channel=%s ledger_key=%s attempts=%d digest_size=%d reason=%s",
                result.channel,
                result.ledger_key,
                result.attempts,
                result.digest_size,
                result.reason,
            )
        else:
            log.info(
                "delivery %s channel=%s ledger_key=%s attempts=%d digest_size=%d status=%s",
                result.outcome,
                result.channel,
                result.ledger_key,
                result.attempts,
                result.digest_size,
                result.status,
            )

    async def _send_batch(self, channel_name: str, alerts: list[Alert]) -> list[DeliveryResult]:
        """Send one message for `alerts` (one alert, or a digest) and report each alert."""
        channel = self.channels[channel_name]
        started = self._clock()
        if len(alerts) > 1:
            _call(self.hooks.on_digest, channel_name, channel.type, len(alerts))
        try:
            sent = await self._send(channel_name, channel, alerts)
        except Exception as exc:  # a bug must not escape into the agent loop
            log.warning("delivery error channel=%s error=%s", channel_name, type(exc).__name__)
            sent = _Sent("failed", 0, f"internal error: {type(exc).__name__}")
        elapsed = self._clock() - started
        results = []
        for alert in alerts:
            result = DeliveryResult(
                channel=channel_name,
                ledger_key=alert.ledger_key,
                outcome=sent.outcome,
                attempts=sent.attempts,
                reason=sent.reason,
                status=sent.status,
                digest_size=len(alerts),
                elapsed_seconds=elapsed,
            )
            self._report(result, channel.type)
            results.append(result)
        return results

    def _budget(self, channel_name: str, channel_type: str) -> RetryBudget:
        return RetryBudget(
            self.settings,
            channel=channel_name,
            channel_type=channel_type,
            sleep=self._sleep,
            rng=self._rng,
            wall_clock=self._wall_clock,
            bucket=self._buckets.get(channel_name),
            hooks=self.hooks,
        )

    async def _send(self, channel_name: str, channel: Channel, alerts: list[Alert]) -> _Sent:
        if isinstance(channel, SlackChannel):
            return await self._send_slack(channel_name, alerts)
        if isinstance(channel, WebhookChannel):
            return await self._send_webhook(channel_name, alerts)
        raise TypeError(f"no sender for channel type {channel.type!r}")

    async def _send_slack(self, channel_name: str, alerts: list[Alert]) -> _Sent:
        poster = self._slack[channel_name]
        message = slack.build_message(alerts)
        budget = self._budget(channel_name, "slack")
        await budget.start()
        try:
            reply = await poster.post(
                message,
                session=self._ensure_session(),
                gate=budget,
                max_attempts=self.settings.max_attempts,
                timeout_seconds=self.settings.timeout_seconds,
            )
        except (aiohttp.ClientError, OSError) as exc:  # OSError covers TimeoutError
            what = _describe(exc, self.settings.timeout_seconds)
            return _Sent("failed", budget.attempts, _redact(budget.failure(what), poster.secrets()))
        if 200 <= reply.status < 300:
            return _Sent("delivered", budget.attempts, status=reply.status)
        what = f"HTTP {reply.status}" + (f": {reply.body[:200]}" if reply.body else "")
        reason = _redact(budget.failure(what), poster.secrets())
        return _Sent("failed", budget.attempts, reason, reply.status)

    async def _send_webhook(self, channel_name: str, alerts: list[Alert]) -> _Sent:
        poster = self._webhooks[channel_name]
        message = webhook.build_message(alerts)
        budget = self._budget(channel_name, "webhook")
        await budget.start()
        while True:
            try:
                reply = await poster.post(
                    message,
                    session=self._ensure_session(),
                    timeout_seconds=self.settings.timeout_seconds,
                    at=self._wall_clock(),
                )
            except (aiohttp.ClientError, OSError) as exc:
                if budget.plan(error=exc) is not None:
                    await budget.wait()
                    continue
                what = _describe(exc, self.settings.timeout_seconds)
                reason = _redact(budget.failure(what), poster.secrets())
                return _Sent("failed", budget.attempts, reason)
            if 200 <= reply.status < 300:
                return _Sent("delivered", budget.attempts, status=reply.status)
            if budget.plan(status=reply.status, retry_after=reply.retry_after) is not None:
                await budget.wait()
                continue
            what = f"HTTP {reply.status}" + (f": {reply.body}" if reply.body else "")
            reason = _redact(budget.failure(what), poster.secrets())
            return _Sent("failed", budget.attempts, reason, reply.status)
