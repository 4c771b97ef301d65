"""A real aiohttp feed server on 127.0.0.1 with programmable misbehaviour, for tests.

Reusable by any test (fetch, poller, end-to-end)::

    async with FeedServer() as server:
        result = await fetcher.fetch(server.url("/feeds/newsradar/sample_rss.xml"))
        assert server.count("/feeds/newsradar/sample_rss.xml") == 1

Routes (all GET):

- ``/feeds/<path>``: a file under tests/data/feeds with a strong ETag and a
  Last-Modified; answers 304 to a matching If-None-Match / If-Modified-Since.
  Content-Type comes from ``?type=``, else the file's ``Header: Content-type:``
  comment (the feedparser corpus convention), else its extension.
  ``?validators=0`` serves without ETag/Last-Modified; ``?max_age=N`` adds
  Cache-Control.
- ``/gzip/<path>``, ``/deflate/<path>``: the same file, compressed.
- ``/bomb?mib=N``: N MiB of zeros (default 1024) as a gzip body of about N kB.
- ``/huge?bytes=N&declare=0|1``: N bytes (default 1 GiB) streamed in 64 KiB
  chunks, with or without Content-Length.
- ``/trickle?bytes=N&delay=S``: headers at once, then one byte every S seconds.
- ``/slow?delay=S``: waits S seconds before answering headers.
- ``/loop/<n>``: redirects to ``/loop/<n+1>`` forever; ``/pingpong/a`` and
  ``/pingpong/b`` redirect to each other.
- ``/chain/<n>``: n redirects, then the sample RSS feed.
- ``/redirect?to=URL&status=302``: redirects anywhere (e.g. 169.254.169.254).
- ``/status/<code>?retry_after=V``: that status, with Retry-After V if given.
- ``/html``: an HTML page; ``/empty``: 200 with an empty body.
- anything registered with `respond` (a canned response) or `on` (a handler).

Every request is recorded (`requests`, `count`, `last_headers`) before it is
answered, so tests can assert on conditional headers and redirect hops.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from aiohttp import web

from .loopback import LoopbackServer

FEEDS_DIR = Path(__file__).resolve().parents[1] / "data" / "feeds"
SAMPLE_FEED = "/feeds/newsradar/sample_rss.xml"
#: Fixed Last-Modified of served files, so tests do not depend on checkout times.
LAST_MODIFIED = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
_HEADER_CONTENT_TYPE = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+)", re.IGNORECASE)
_TYPES = {".xml": "application/xml", ".json": "application/json", ".html": "text/html"}
_CHUNK = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FeedServer(LoopbackServer):
    """A loopback HTTP server serving tests/data/feeds and scripted failures."""

    methods = "GET"

    def __init__(self, root: Path = FEEDS_DIR, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.root = root
        self.requests: list[RecordedRequest] = []
        self._counts: Counter[str] = Counter()
        self._custom: dict[str, Handler] = {}
        self._bombs: dict[int, bytes] = {}

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def count(self, path: str) -> int:
        """How many requests reached `path` (without query string)."""
        return self._counts[path]

    def last_headers(self, path: str) -> dict[str, str]:
        """Headers of the latest request to `path` (lower-case names)."""
        for request in reversed(self.requests):
            if request.path == path:
                return request.headers
        raise KeyError(path)

    def reset(self) -> None:
        """Forget recorded requests and counters."""
        self.requests.clear()
        self._counts.clear()

    # -- programming ---------------------------------------------------------
    def on(self, path: str, handler: Handler) -> None:
        """Answer `path` with `handler` (takes precedence over the built-in routes)."""
        self._custom[path] = handler

    def respond(
        self,
        path: str,
        *,
        status: int = 200,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer `path` with a canned response."""

        async def canned(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, body=body, headers=headers)

        self._custom[path] = canned

    # -- routing -------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
            )
        )
        self._counts[path] += 1
        if path in self._custom:
            return await self._custom[path](request)
        head, _, rest = path.lstrip("/").partition("/")
        if head == "feeds":
            return self._file(request, rest, encoding=None)
        if head in ("gzip", "deflate"):
            return self._file(request, rest.removeprefix("feeds/"), encoding=head)
        if head == "bomb":
            return self._bomb(int(request.query.get("mib", "1024")))
        if head == "huge":
            return await self._huge(request)
        if head == "trickle":
            return await self._trickle(request)
        if head == "slow":
            await asyncio.sleep(float(request.query.get("delay", "5")))
            return web.Response(text="late")
        if head == "loop":
            n = int(rest or "0")
            raise web.HTTPFound(f"/loop/{n + 1}")
        if head == "pingpong":
            raise web.HTTPFound("/pingpong/b" if rest == "a" else "/pingpong/a")
        if head == "chain":
            n = int(rest or "0")
            raise web.HTTPFound(f"/chain/{n - 1}" if n > 1 else SAMPLE_FEED)
        if head == "redirect":
            status = int(request.query.get("status", "302"))
            return web.Response(status=status, headers={"Location": request.query["to"]})
        if head == "status":
            headers = {}
            if "retry_after" in request.query:
                headers["Retry-After"] = request.query["retry_after"]
            return web.Response(status=int(rest), text=f"status {rest}", headers=headers)
        if head == "html":
            return web.Response(
                text="<!DOCTYPE html><html><head><title>Not a feed</title></head>"
                "<body><h1>Welcome</h1><p>This page is HTML.</p></body></html>",
                content_type="text/html",
            )
        if head == "empty":
            return web.Response(status=200, body=b"", content_type="application/rss+xml")
        raise web.HTTPNotFound()

    def _file(self, request: web.Request, relative: str, encoding: str | None) -> web.Response:
        target = (self.root / relative).resolve()
        if not target.is_file() or not target.is_relative_to(self.root.resolve()):
            raise web.HTTPNotFound()
        body = target.read_bytes()
        headers: dict[str, str] = {"Content-Type": self._content_type(request, target, body)}
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.query.get("validators", "1") != "0":
            headers["ETag"] = etag
            headers["Last-Modified"] = format_datetime(LAST_MODIFIED, usegmt=True)
            if _not_modified(request, etag):
                return web.Response(status=304, headers={"ETag": etag})
        if "max_age" in request.query:
            headers["Cache-Control"] = f"public, max-age={int(request.query['max_age'])}"
        if encoding == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        elif encoding == "deflate":
            body = zlib.compress(body)
            headers["Content-Encoding"] = "deflate"
        return web.Response(body=body, headers=headers)

    @staticmethod
    def _content_type(request: web.Request, target: Path, body: bytes) -> str:
        if "type" in request.query:
            return request.query["type"]
        declared = _HEADER_CONTENT_TYPE.search(body[:1024])
        if declared:
            return declared.group(1).decode("latin-1").strip()
        return _TYPES.get(target.suffix, "application/octet-stream")

    def prepare_bomb(self, mib: int) -> bytes:
        """Build (once) and return the gzip body that inflates to `mib` MiB of zeros."""
        if mib not in self._bombs:
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
            zeros = bytes(1024 * 1024)
            parts = [compressor.compress(zeros) for _ in range(mib)]
            parts.append(compressor.flush())
            self._bombs[mib] = b"".join(parts)
        return self._bombs[mib]

    def _bomb(self, mib: int) -> web.Response:
        return web.Response(
            body=self.prepare_bomb(mib),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        total = int(request.query.get("bytes", str(1024**3)))
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if request.query.get("declare") == "1":
            response.content_length = total
        await response.prepare(request)
        chunk = b"<!-- filler -->" * (_CHUNK // 15)
        sent = 0
        try:
            while sent < total:
                piece = chunk[: min(len(chunk), total - sent)]
                await response.write(piece)
                sent += len(piece)
        except (ConnectionResetError, ConnectionError):
            return response
        await response.write_eof()
        return response

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        total = int(request.query.get("bytes", "60"))
        delay = float(request.query.get("delay", "1"))
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = total
        await response.prepare(request)
        try:
            for _ in range(total):
                await response.write(b" ")
                await asyncio.sleep(delay)
        except (ConnectionResetError, ConnectionError):
            return response
        await response.write_eof()
        return response


def _not_modified(request: web.Request, etag: str) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return since >= LAST_MODIFIED
    return False
