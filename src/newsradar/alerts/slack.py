"""Slack channel: a Block Kit message per alert (or per update digest), sent with the Slack SDK.

Message layout (blocks built with `slack_sdk.models.blocks`, so valid by construction):

1. header: the headline, e.g. "New deal: Microsoft -> OpenAI, $10.0B",
   "Layoffs: Microsoft, 10,000 jobs", "Update: Microsoft -> OpenAI, $12.0B";
2. section fields: investor / target / co-investors (deal) or company (layoff), or
   the parties; amount in the original currency and in USD; jobs and/or share of
   staff; stage; languages;
3. section: the evidence sentence as a quote;
4. section: the first source with a link to its article and the count of other sources;
5. context: rule, reason (and, for a digest, how many updates it folds and what
   changed), first seen time.

`text` is a plain fallback (headline, evidence, source) for notifications and
clients without Block Kit. Slack's limits are kept: header 150 characters,
section text 3000, fields 10 of 2000 each, context elements 10, 50 blocks; longer
texts end with an ellipsis. User text is escaped (&, <, >) for mrkdwn.

Sending: `SlackPoster` wraps `slack_sdk.webhook.async_client.AsyncWebhookClient`
on a shared aiohttp session. Retries use the SDK's retry-handler mechanism with
one `GatedRetryHandler` that asks a `RetryGate` (the delivery policy) whether and
how long to wait. The SDK's built-in handlers do not fit: the server-error one
retries only 500/503, the rate-limit one cannot read an HTTP-date Retry-After and
waits any length, the connection one ignores timeouts, and all sleep with
`asyncio.sleep` (no injectable clock). The webhook URL is a secret: the SDK gets
a quiet logger (level WARNING, secret-redacting filter), since at DEBUG/INFO it
logs the URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from pydantic import SecretStr
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.webhook.async_client import AsyncWebhookClient

from newsradar.alerts.rules import ledger_key
from newsradar.models import Alert, Event

__all__ = [
    "ELLIPSIS",
    "GatedRetryHandler",
    "RetryGate",
    "SlackMessage",
    "SlackPoster",
    "build_message",
    "format_amount",
    "format_usd",
    "headline",
    "is_update",
]

ELLIPSIS = "…"
HEADER_MAX = HeaderBlock.text_max_length  # 150
SECTION_TEXT_MAX = SectionBlock.text_max_length  # 3000
FIELDS_MAX = SectionBlock.fields_max_length  # 10
FIELD_TEXT_MAX = 2000
CONTEXT_ELEMENTS_MAX = ContextBlock.elements_max_length  # 10
CONTEXT_TEXT_MAX = 2000
BLOCKS_MAX = 50
#: Slack accepts up to 40,000 characters of `text` but recommends far fewer; 3000 is safe.
TEXT_MAX = 3000
#: Links longer than this are shown as plain source names (never cut a URL in half).
URL_MAX = 1000

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


def is_update(alert: Alert) -> bool:
    """True for a re-alert on an update (ledger key `...:v<version>`, see rules.ledger_key).

    A rule's first alert on an event is news to its readers even when the event
    state is an `update` (its threshold was reached later): that is not an update.
    """
    return alert.ledger_key == ledger_key(alert.rule, alert.event, alert.event.version)


def _scaled(value: float) -> str:
    """10e9 -> '10.0B', 2.5e6 -> '2.5M', 12_000 -> '12.0K', 950 -> '950'."""
    magnitude = abs(value)
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= threshold:
            return f"{value / threshold:.1f}{suffix}"
    return f"{value:,.0f}"


def format_usd(value: float) -> str:
    """A USD amount the way headlines write it: '$10.0B'."""
    return "$" + _scaled(value)


def format_amount(value: float, currency: str | None) -> str:
    """An amount in its own currency: '€9.2B', 'CHF 1.5B', '$10.0B'."""
    code = (currency or "").upper()
    symbol = _SYMBOLS.get(code)
    if symbol:
        return symbol + _scaled(value)
    return f"{code} {_scaled(value)}".strip()


def _money(event: Event) -> str | None:
    """Original amount and USD value: '€9.2B (≈ $10.0B)', or just '$10.0B'."""
    original = (
        format_amount(event.amount, event.currency)
        if event.amount is not None and event.currency and event.currency.upper() != "USD"
        else None
    )
    usd = format_usd(event.amount_usd) if event.amount_usd is not None else None
    if original and usd:
        return f"{original} (≈ {usd})"
    if original or usd:
        return original or usd
    if event.amount is not None:  # USD by currency, no converted value
        return format_amount(event.amount, event.currency or "USD")
    return None


def _staff(event: Event) -> str | None:
    """'10,000 jobs', '5% of staff', or both."""
    parts = []
    if event.headcount is not None:
        parts.append(f"{event.headcount:,} jobs")
    if event.percent is not None:
        parts.append(f"{event.percent:g}% of staff")
    return ", ".join(parts) or None


def _subject(event: Event) -> str:
    """'Microsoft -> OpenAI, $10.0B' or 'Acme AI (investor not named), $2.0B' (deal), or
    'Microsoft, 10,000 jobs' (layoff)."""
    if event.kind == "deal":
        if event.investor and event.target:
            who = f"{event.investor} -> {event.target}"
        elif event.target:  # "Acme AI raises $2 billion": a round whose lead is not named
            who = f"{event.target} (investor not named)"
        else:
            who = ", ".join(event.parties) or "unknown parties"
        money = _money(event)
        return f"{who}, {money}" if money else who
    who = event.company or ", ".join(event.parties) or "unknown company"
    staff = _staff(event)
    return f"{who}, {staff}" if staff else who


def headline(alert: Alert) -> str:
    """The one-line summary of an alert, used by every channel (untruncated)."""
    event = alert.event
    if is_update(alert):
        prefix = "Update: " if event.kind == "deal" else "Update: layoffs at "
    else:
        prefix = "New deal: " if event.kind == "deal" else "Layoffs: "
    return prefix + _subject(event)


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an &entity;."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    return cut + ELLIPSIS


def _link(url: str | None, label: str) -> str:
    """A mrkdwn link `<url|label>`, or the escaped label when the URL is unusable."""
    shown = _escape(label.replace("|", "¦"))
    if not url or len(url) > URL_MAX or not url.startswith(("http://", "https://")):
        return shown
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe_url}|{shown}>"


def _fields(event: Event) -> list[str]:
    rows: list[tuple[str, str | None]] = []
    if event.kind == "deal":
        if event.investor or event.target:
            rows += [("Investor", event.investor), ("Target", event.target)]
        else:
            rows.append(("Parties", ", ".join(event.parties)))
        if event.co_investors:
            rows.append(("Co-investors", ", ".join(event.co_investors)))
        rows.append(("Amount", _money(event)))
    else:
        rows.append(("Company", event.company or ", ".join(event.parties)))
        if event.headcount is not None:
            rows.append(("Jobs", f"{event.headcount:,}"))
        if event.percent is not None:
            rows.append(("Share of staff", f"{event.percent:g}%"))
    if event.stage:
        rows.append(("Stage", event.stage))
    if event.languages:
        label = "Language" if len(event.languages) == 1 else "Languages"
        rows.append((label, ", ".join(event.languages)))
    fields = [_fit(f"*{name}*\n{_escape(value)}", FIELD_TEXT_MAX) for name, value in rows if value]
    return fields[:FIELDS_MAX]


def _source_line(event: Event) -> str:
    first = event.sources[0] if event.sources else "unknown source"
    others = max(len(event.sources) - 1, 0)
    text = f"*Source:* {_link(event.url, event.title)} ({_escape(first)})"
    if others:
        text += f" and {others} other source{'s' if others > 1 else ''}"
    return _fit(text, SECTION_TEXT_MAX)


def _context(alerts: Sequence[Alert]) -> list[str]:
    latest = alerts[-1]
    event = latest.event
    items = [f"rule *{_escape(latest.rule)}*", f"reason {_escape(latest.reason)}"]
    if len(alerts) > 1:
        changes: list[str] = []
        for alert in alerts:
            for change in alert.reason.removeprefix("update:").split(","):
                if change and change != "new" and change not in changes:
                    changes.append(change)
        items[1] = f"{len(alerts)} updates ({_escape(', '.join(changes) or 'changes')})"
    items.append(f"first seen {event.first_seen:%Y-%m-%d %H:%M} UTC")
    items.append(f"{event.report_count} report{'s' if event.report_count != 1 else ''}")
    return [_fit(item, CONTEXT_TEXT_MAX) for item in items][:CONTEXT_ELEMENTS_MAX]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What is posted to the incoming webhook: fallback text and Block Kit blocks (dicts)."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        """The JSON body Slack receives."""
        return {"text": self.text, "blocks": self.blocks}


def build_message(alerts: Sequence[Alert]) -> SlackMessage:
    """The message for one alert, or for an update digest (alerts of one event, oldest first).

    A digest shows the latest state of the event (the alert with the highest
    version) and says how many updates it folds and what they changed.
    """
    if not alerts:
        raise ValueError("build_message needs at least one alert")
    ordered = sorted(alerts, key=lambda a: (a.event.version, a.decided_at))
    latest = ordered[-1]
    event = latest.event
    title = " ".join(headline(latest).split())  # a header is one line
    if len(ordered) > 1:
        title += f" ({len(ordered)} updates)"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_fit(title, HEADER_MAX), emoji=False)),
    ]
    fields = _fields(event)
    if fields:
        blocks.append(SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]))
    if event.evidence.strip():
        quote = "> " + _escape(" ".join(event.evidence.split()))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_fit(quote, SECTION_TEXT_MAX))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_source_line(event))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t) for t in _context(ordered)]))
    others = max(len(event.sources) - 1, 0)
    source = event.sources[0] if event.sources else "unknown source"
    fallback = f"{title}. {' '.join(event.evidence.split())} ({source}"
    fallback += f" and {others} other{'s' if others > 1 else ''}" if others else ""
    fallback += f": {event.url})" if event.url and len(event.url) <= URL_MAX else ")"
    return SlackMessage(
        text=_fit(_escape(fallback), TEXT_MAX),
        blocks=[block.to_dict() for block in blocks[:BLOCKS_MAX]],  # to_dict validates
    )


# -- sending ------------------------------------------------------------------


class RetryGate(Protocol):
    """The delivery policy as the retry handler sees it (see delivery.RetryBudget)."""

    def plan(
        self,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        retry_after: str | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None: do not retry."""

    async def wait(self) -> None:
        """Wait the planned delay (and any rate-limit token), counting the retry."""


class GatedRetryHandler(AsyncRetryHandler):
    """An SDK retry handler that defers every decision to a `RetryGate`."""

    def __init__(self, gate: RetryGate, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.gate = gate

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        retry_after = None
        if response is not None:
            for name, values in response.headers.items():
                if name.lower() == "retry-after" and values:
                    retry_after = str(values[0])
        status = response.status_code if response is not None else None
        return self.gate.plan(status=status, error=error, retry_after=retry_after) is not None

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self.gate.wait()
        state.increment_current_attempt()


class _Redact(logging.Filter):
    """Replace secrets in records of the SDK's logger (belt and braces: it is at WARNING)."""

    def __init__(self, secrets: Sequence[str], label: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        self.label = label

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, self.label)
            record.msg, record.args = message, None
        return True


def _quiet_logger(channel_name: str, url: str) -> logging.Logger:
    """The logger handed to the SDK: WARNING, so its DEBUG/INFO lines (with the URL) never run."""
    logger = logging.getLogger(f"newsradar.alerts.slack.sdk.{channel_name}")
    logger.setLevel(logging.WARNING)
    path = url.split("://", 1)[-1].partition("/")[2]
    for old in [f for f in logger.filters if isinstance(f, _Redact)]:
        logger.removeFilter(old)
    logger.addFilter(_Redact([url, "/" + path if path else ""], f"<slack:{channel_name}>"))
    return logger


@dataclass(frozen=True, slots=True)
class SlackReply:
    """What Slack answered: HTTP status and body ("ok", "no_service", ...)."""

    status: int
    body: str


class SlackPoster:
    """Posts messages to one Slack incoming webhook through the SDK's async client."""

    def __init__(self, channel_name: str, webhook_url: SecretStr) -> None:
        self.channel_name = channel_name
        self._url = webhook_url
        self._logger = _quiet_logger(channel_name, webhook_url.get_secret_value())

    def secrets(self) -> list[str]:
        """Strings that must never appear in logs or reasons (the URL and its path)."""
        url = self._url.get_secret_value()
        path = url.split("://", 1)[-1].partition("/")[2]
        segments = [part for part in path.split("/") if len(part) >= 8]
        return [s for s in (url, path, *segments) if s]

    async def post(
        self,
        message: SlackMessage,
        *,
        session: aiohttp.ClientSession,
        gate: RetryGate,
        max_attempts: int,
        timeout_seconds: float,
    ) -> SlackReply:
        """Send with the SDK; retries follow `gate`. Raises transport errors after the last try.

        The per-attempt timeout is the session's (the SDK passes none per request).
        """
        client = AsyncWebhookClient(
            url=self._url.get_secret_value(),
            timeout=max(1, round(timeout_seconds)),
            session=session,
            logger=self._logger,
            # One more than the gate allows, so the SDK always asks the gate (which
            # enforces max_attempts and records why retrying stopped).
            retry_handlers=[GatedRetryHandler(gate, max_retry_count=max_attempts)],
        )
        response = await client.send(text=message.text, blocks=message.blocks)
        return SlackReply(status=response.status_code, body=str(response.body or ""))
