"""Webhook channel: signed JSON POSTs, per the Standard Webhooks specification.

Body (UTF-8 JSON, the envelope Standard Webhooks recommends)::

    {"type": "newsradar.alert",
     "timestamp": "<alert.decided_at, ISO 8601>",
     "data": <the Alert model as JSON: ledger_key, rule, channels, reason,
              decided_at, event {...}, schema_version>}

An update digest (several update alerts of one event folded into one POST) is::

    {"type": "newsradar.alert.digest",
     "timestamp": "<decided_at of the latest alert>",
     "data": {"event_id": "...", "alerts": [<Alert>, ...]}}   # oldest first

Headers: `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt: each
retry is signed again), `webhook-signature` (`v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`), `content-type: application/json`, `user-agent:
newsradar-webhooks/1`. `webhook-id` is the alert's ledger key (percent-encoded
where it holds characters outside printable ASCII, which headers cannot carry),
the same on every retry, so receivers can deduplicate; a digest's id is
`digest:` + 32 hex digits of the SHA-256 of its ledger keys (receivers
deduplicate its alerts by their `ledger_key`). Redirects are not followed.
A 2xx answer means delivered; 429 (Retry-After honoured), 5xx, timeouts and
connection errors are retried; any other status is a permanent failure.

The secret: `whsec_<base64>` (the Standard Webhooks format, as its libraries
generate) is base64-decoded and the bytes are the HMAC key; any other string is
used as is (its UTF-8 bytes are the key). Receivers verify with
`standardwebhooks.Webhook(secret)` for a `whsec_` secret, and with
`Webhook(secret.encode())` or `Webhook(receiver_secret(secret))` for a raw one.
(The library itself would base64-decode an unprefixed string: guessing whether a
string was meant as base64 is ambiguous, so newsradar never guesses.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from newsradar.models import Alert

__all__ = [
    "ALERT_TYPE",
    "DIGEST_TYPE",
    "SECRET_PREFIX",
    "WebhookMessage",
    "WebhookPoster",
    "WebhookReply",
    "build_message",
    "receiver_secret",
    "signing_key",
    "webhook_id",
]

ALERT_TYPE = "newsradar.alert"
DIGEST_TYPE = "newsradar.alert.digest"
SECRET_PREFIX = "whsec_"
USER_AGENT = "newsradar-webhooks/1"
#: Characters kept as they are in webhook-id (the rest is percent-encoded).
_ID_SAFE = ":|-_.~!$&'()*+,;=@/"
#: At most this much of a receiver's answer is kept (for the failure reason).
_REPLY_MAX = 200


def signing_key(secret: str) -> bytes:
    """The HMAC key of a channel secret: `whsec_<base64>` decoded, anything else as UTF-8.

    Raises ValueError (without the secret in the message) for an empty secret or
    a `whsec_` secret whose rest is not base64.
    """
    if secret.startswith(SECRET_PREFIX):
        encoded = secret[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(
                "webhook secret starts with 'whsec_' but the rest is not base64"
            ) from exc
    else:
        key = secret.encode("utf-8")
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def receiver_secret(secret: str) -> str:
    """The `whsec_` form of a channel secret, for receivers using a Standard Webhooks library."""
    if secret.startswith(SECRET_PREFIX):
        return secret
    return SECRET_PREFIX + base64.b64encode(signing_key(secret)).decode("ascii")


def webhook_id(alerts: Sequence[Alert]) -> str:
    """The `webhook-id` of a message: the ledger key, or `digest:<hash>` for a digest."""
    if len(alerts) == 1:
        return quote(alerts[0].ledger_key, safe=_ID_SAFE)
    digest = hashlib.sha256("\n".join(sorted(a.ledger_key for a in alerts)).encode("utf-8"))
    return "digest:" + digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """One message: its id (stable across retries) and the exact body that is signed."""

    id: str
    body: str


def build_message(alerts: Sequence[Alert]) -> WebhookMessage:
    """The message for one alert, or for an update digest (alerts of one event)."""
    if not alerts:
        raise ValueError("build_message needs at least one alert")
    ordered = sorted(alerts, key=lambda a: (a.event.version, a.decided_at))
    latest = ordered[-1]
    if len(ordered) == 1:
        envelope = {
            "type": ALERT_TYPE,
            "timestamp": latest.decided_at.isoformat(),
            "data": latest.model_dump(mode="json"),
        }
    else:
        envelope = {
            "type": DIGEST_TYPE,
            "timestamp": latest.decided_at.isoformat(),
            "data": {
                "event_id": latest.event.event_id,
                "alerts": [alert.model_dump(mode="json") for alert in ordered],
            },
        }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    return WebhookMessage(id=webhook_id(ordered), body=body)


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """What the receiver answered: status, Retry-After header, the start of the body."""

    status: int
    retry_after: str | None
    body: str


class WebhookPoster:
    """Signs and POSTs messages to one webhook URL."""

    def __init__(self, channel_name: str, url: str, secret: SecretStr) -> None:
        self.channel_name = channel_name
        self.url = url
        self._secret = secret
        # Validates the secret now (a bad one fails at start-up, not at the first alert).
        self._webhook = Webhook(signing_key(secret.get_secret_value()))

    def secrets(self) -> list[str]:
        """Strings that must never appear in logs or reasons."""
        return [self._secret.get_secret_value()]

    def headers(self, message: WebhookMessage, at: datetime) -> dict[str, str]:
        """Standard Webhooks headers for `message` signed at time `at`."""
        at = at.astimezone(UTC)  # the library replaces tzinfo: hand it UTC
        return {
            "webhook-id": message.id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self._webhook.sign(message.id, at, message.body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }

    async def post(
        self,
        message: WebhookMessage,
        *,
        session: aiohttp.ClientSession,
        timeout_seconds: float,
        at: datetime,
    ) -> WebhookReply:
        """One signed POST (no retry, no redirect). Raises aiohttp errors and TimeoutError."""
        async with session.post(
            self.url,
            data=message.body.encode("utf-8"),
            headers=self.headers(message, at),
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            allow_redirects=False,
        ) as response:
            text = (await response.content.read(_REPLY_MAX * 4)).decode("utf-8", "replace")
            return WebhookReply(
                status=response.status,
                retry_after=response.headers.get("Retry-After"),
                body=" ".join(text.split())[:_REPLY_MAX],
            )
