"""Loopback alert receivers on 127.0.0.1 (aiohttp.web), reusable by any test.

- `SlackReceiver`: speaks Slack's incoming-webhook protocol: POST JSON to
  `/services/T.../B.../<token>`, answers 200 "ok"; scripted failures answer the
  way Slack does (500 "internal_error", 429 "rate_limited" with Retry-After,
  404 "no_service", ...). Other paths get 404 "no_service".
- `WebhookReceiver`: verifies every POST with `standardwebhooks.Webhook(secret)`
  and answers 401 when the signature does not verify, else the scripted reply.

Both record every request before answering (`requests`: body, headers, arrival
time on the monotonic clock, the status answered), and `received` lists the
requests that were accepted (2xx answered). A script is a list of `Reply`
consumed one per request; when it runs out, `default` answers::

    async with SlackReceiver() as slack:
        slack.script(Reply(500, "internal_error"), Reply(500, "internal_error"))
        ...  # deliver to slack.url
        assert len(slack.requests) == 3 and len(slack.received) == 1

`closed_port_url()` gives a URL nobody listens on (connection refused).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .loopback import LoopbackServer

__all__ = [
    "SLACK_PATH",
    "Receiver",
    "RecordedPost",
    "Reply",
    "SlackReceiver",
    "WebhookReceiver",
    "closed_port_url",
]

#: The path part of the fake Slack webhook URL: the secret part of a real one.
SLACK_PATH = "/services/T0NEWSRDR/B0NEWSRDR/s3cr3tT0kenNeverLogged"


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer: status, body, headers, and a delay before answering."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass(slots=True)
class RecordedPost:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    status: int | None = None  # what was answered (None if the client went away first)
    verified: bool | None = None  # WebhookReceiver: did the signature verify

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Receiver(LoopbackServer):
    """A loopback HTTP server that records POSTs and answers from a script."""

    def __init__(self, *, default: Reply | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.default = default or Reply()
        self.requests: list[RecordedPost] = []
        self._script: list[Reply] = []

    # -- programming and records -------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, in order (then `default`)."""
        self._script.extend(replies)

    @property
    def received(self) -> list[RecordedPost]:
        """Requests answered with a 2xx: what the receiver accepted."""
        return [r for r in self.requests if r.status is not None and 200 <= r.status < 300]

    def gaps(self) -> list[float]:
        """Seconds between consecutive request arrivals."""
        times = [r.at for r in self.requests]
        return [b - a for a, b in itertools.pairwise(times)]

    # -- serving -------------------------------------------------------------
    def _next_reply(self) -> Reply:
        return self._script.pop(0) if self._script else self.default

    async def check(self, request: web.Request, record: RecordedPost) -> Reply | None:
        """Protocol checks of a subclass; a Reply answers instead of the script."""
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        record = RecordedPost(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
            at=time.monotonic(),
        )
        self.requests.append(record)
        reply = await self.check(request, record) or self._next_reply()
        if reply.delay_seconds:
            await asyncio.sleep(reply.delay_seconds)
        record.status = reply.status
        return web.Response(status=reply.status, text=reply.body, headers=reply.headers)


class SlackReceiver(Receiver):
    """Slack's incoming-webhook protocol on loopback (see module docstring)."""

    @property
    def url(self) -> str:
        """The webhook URL to configure (its path plays the secret)."""
        return self.base_url + SLACK_PATH

    async def check(self, request: web.Request, record: RecordedPost) -> Reply | None:
        if request.method != "POST" or request.path != SLACK_PATH:
            return Reply(404, "no_service")
        try:
            payload = record.json()
        except ValueError:
            return Reply(400, "invalid_payload")
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return Reply(400, "no_text")
        return None

    def payloads(self) -> list[dict[str, Any]]:
        """JSON bodies of the accepted messages."""
        return [r.json() for r in self.received]


class WebhookReceiver(Receiver):
    """A Standard Webhooks receiver: verifies signatures with the `standardwebhooks` package."""

    def __init__(self, secret: str | bytes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = Webhook(secret)

    @property
    def url(self) -> str:
        """The endpoint URL."""
        return self.base_url + "/hooks/newsradar"

    async def check(self, request: web.Request, record: RecordedPost) -> Reply | None:
        try:
            self.verifier.verify(record.body, dict(request.headers))
        except WebhookVerificationError:
            record.verified = False
            return Reply(401, "invalid signature")
        record.verified = True
        return None

    def payloads(self) -> list[dict[str, Any]]:
        """JSON bodies of the accepted (verified, 2xx) messages."""
        return [r.json() for r in self.received]


def closed_port_url(path: str = "/hooks/down") -> str:
    """A loopback URL on a port that was free a moment ago: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
