"""HTTP fetching of feeds: conditional GET, hard limits, and an address guard.

Every limit is enforced here, where the bytes arrive, so that no feed can stall
or swamp the pipeline: connect and total timeouts (a body trickled one byte a
second is cut by the total timeout), a cap on the *decompressed* body (a gzip
bomb is cut while streaming), a bounded redirect chain, and per-host and total
connection limits.

The address guard (design invariant 5) refuses loopback, private, link-local,
multicast, reserved and unspecified addresses, IPv4 and IPv6 alike, including
IPv4 addresses embedded in IPv6 (mapped, 6to4, NAT64). It acts at connect time,
so every redirect hop is checked, in two places:

- `GuardedResolver` wraps aiohttp's resolver and drops refused addresses from
  every name lookup (refusing the host when none is left);
- aiohttp does not call the resolver for IP-literal hosts
  (`TCPConnector._resolve_host` returns them as they are), so a `socket_factory`
  checks the address of every socket aiohttp is about to connect as well.

Errors (see `newsradar.errors`): `BlockedAddressError`, `ResponseTooLargeError`,
`TooManyRedirectsError`, `HTTPStatusError` (with Retry-After), and `FetchError`
with `kind` one of "timeout", "connect", "dns", "invalid_url", "payload",
"protocol", "client".
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from newsradar import __version__
from newsradar.errors import (
    BlockedAddressError,
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from newsradar.ingest.schedule import parse_retry_after
from newsradar.models import utcnow

__all__ = [
    "DEFAULT_USER_AGENT",
    "AddressPolicy",
    "FeedFetcher",
    "FetchResult",
    "FetchSettings",
    "GuardedResolver",
]

DEFAULT_USER_AGENT = f"newsradar/{__version__} (+https://github.com/newsradar/newsradar)"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_CHUNK_BYTES = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits and identity of the feed fetcher (built by the config loader)."""

    connect_timeout_seconds: float = 10
    total_timeout_seconds: float = 30
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host_limit: int = 2
    total_limit: int = 100
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_addresses: bool = False
    #: CIDRs let through the guard even though they are not public, e.g. an
    #: intranet feed host ("10.1.2.0/24"); everything else stays refused.
    allowed_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for network in self.allowed_networks:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        if self.max_body_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("max_body_bytes must be > 0 and max_redirects >= 0")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetched feed. `body` is None on 304; `etag`/`last_modified` are the validators
    to send next time (on a 304 without them, the ones that were sent)."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    final_url: str
    elapsed_seconds: float
    body_bytes: int
    retry_after_seconds: float | None = None
    cache_max_age_seconds: float | None = None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    """Whether `address` is public unicast; an IPv6 form of an IPv4 address is judged as
    that IPv4 address (so ::ffff:169.254.169.254 is refused and ::ffff:8.8.8.8 is not)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _is_public(embedded)
        if address.is_site_local:
            return False
    return not (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which peer addresses the fetcher may connect to."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> AddressPolicy:
        """The policy a `FetchSettings` describes."""
        return cls(
            allow_private=settings.allow_private_addresses,
            allowed_networks=tuple(
                ipaddress.ip_network(n, strict=False) for n in settings.allowed_networks
            ),
        )

    def allows(self, host: str) -> bool:
        """Whether connecting to the IP address `host` is allowed (non-IP text: refused)."""
        if self.allow_private:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
        except ValueError:
            return False
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        if any(c in n for c in candidates for n in self.allowed_networks if c.version == n.version):
            return True
        return _is_public(address)


class GuardedResolver(AbstractResolver):
    """Resolves with an inner resolver, then drops addresses the policy refuses."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Addresses of `host` that may be connected to; `BlockedAddressError` if none."""
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.allows(r["host"])]
        if not allowed:
            refused = ", ".join(sorted({r["host"] for r in results}))
            raise BlockedAddressError(
                f"fetch: expected {host} to resolve to a public address, got {refused}"
            )
        return allowed

    async def close(self) -> None:
        """Release the inner resolver."""
        await self._inner.close()


def _guarded_socket_factory(policy: AddressPolicy) -> SocketFactoryType:
    """A socket factory that refuses to create a socket towards a refused address."""

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        host = str(sockaddr[0])
        if not policy.allows(host):
            raise BlockedAddressError(
                f"fetch: expected a public address, refused to connect to {host}"
            )
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def _cache_max_age(values: Iterable[str]) -> float | None:
    for value in values:
        lowered = value.lower()
        if "no-store" in lowered or "no-cache" in lowered:
            return None
        match = _MAX_AGE.search(value)
        if match:
            return float(match.group(1))
    return None


class FeedFetcher:
    """Fetches feeds over one shared aiohttp session; use `async with` or call `close()`."""

    def __init__(
        self, settings: FetchSettings | None = None, *, resolver: AbstractResolver | None = None
    ) -> None:
        """`resolver` replaces aiohttp's default name resolver (the guard still wraps it)."""
        self.settings = settings or FetchSettings()
        self._policy = AddressPolicy.from_settings(self.settings)
        self._inner_resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        """The session, created on first use (aiohttp needs a running loop)."""
        if self._session is None or self._session.closed:
            s = self.settings
            connector = aiohttp.TCPConnector(
                limit=s.total_limit,
                limit_per_host=s.per_host_limit,
                resolver=GuardedResolver(self._policy, self._inner_resolver),
                socket_factory=_guarded_socket_factory(self._policy),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=s.total_timeout_seconds, sock_connect=s.connect_timeout_seconds
                ),
                headers={"User-Agent": s.user_agent, "Accept": _ACCEPT},
                trust_env=False,  # no proxy from the environment: the guard must see the peer
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` conditionally; a 2xx or 304 answer is a result, anything else raises.

        Raises `FetchError` (or a subclass) for every failure; never anything else
        except cancellation.
        """
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError as exc:
            raise FetchError(f"fetch: invalid URL {url!r}: {exc}", kind="invalid_url") from exc
        if scheme not in ("http", "https"):
            raise FetchError(
                f"fetch: expected an http(s) URL, got scheme {scheme or 'none'!r}",
                kind="invalid_url",
            )
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        session = self._ensure_session()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.total_timeout_seconds):
                return await self._get(session, url, headers, etag, last_modified, started)
        except FetchError:
            raise
        except TimeoutError as exc:  # ours, or aiohttp's ServerTimeoutError & co.
            raise FetchError(
                f"fetch: timed out after {time.monotonic() - started:.1f}s "
                f"(connect {self.settings.connect_timeout_seconds}s, "
                f"total {self.settings.total_timeout_seconds}s)",
                kind="timeout",
            ) from exc
        except aiohttp.TooManyRedirects as exc:
            last = exc.history[-1].url if exc.history else exc.request_info.real_url
            raise TooManyRedirectsError(
                f"fetch: expected at most {self.settings.max_redirects} redirects "
                f"from {url}, got more (last hop {last})"
            ) from exc
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            raise FetchError(f"fetch: invalid URL {exc}", kind="invalid_url") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise FetchError(f"fetch: cannot resolve host: {exc}", kind="dns") from exc
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            raise FetchError(f"fetch: cannot connect: {exc}", kind="connect") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"fetch: broken response body: {exc}", kind="payload") from exc
        except aiohttp.ClientResponseError as exc:
            raise FetchError(f"fetch: invalid HTTP response: {exc}", kind="protocol") from exc
        except aiohttp.ClientOSError as exc:
            raise FetchError(f"fetch: connection failed: {exc}", kind="connect") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"fetch: {type(exc).__name__}: {exc}", kind="client") from exc
        except ValueError as exc:  # yarl/aiohttp reject some URLs with a bare ValueError
            raise FetchError(f"fetch: invalid URL {url!r}: {exc}", kind="invalid_url") from exc

    async def _get(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        started: float,
    ) -> FetchResult:
        limit = self.settings.max_body_bytes
        redirects = self.settings.max_redirects
        # aiohttp raises when the count of redirects *reaches* max_redirects, and treats
        # 0 as "unlimited": ask it for one more, and follow none ourselves for 0.
        async with session.get(
            url,
            headers=headers,
            allow_redirects=redirects > 0,
            max_redirects=redirects + 1,
        ) as response:
            if redirects == 0 and response.status in _REDIRECTS and "Location" in response.headers:
                raise TooManyRedirectsError(
                    f"fetch: expected no redirect, got {response.status} from {url}"
                )
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utcnow())
            if response.status == 304:
                return self._result(response, None, etag, last_modified, started, retry_after)
            if not 200 <= response.status < 300:
                raise HTTPStatusError(response.status, retry_after)
            declared = response.content_length
            if declared is not None and declared > limit:
                raise ResponseTooLargeError(
                    f"fetch: expected at most {limit} bytes, Content-Length says {declared}"
                )
            chunks: list[bytes] = []
            received = 0
            # aiohttp decompresses gzip/deflate as it streams, so this counts the
            # decompressed bytes and stops a compression bomb at the cap.
            async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                received += len(chunk)
                if received > limit:
                    raise ResponseTooLargeError(
                        f"fetch: expected at most {limit} bytes (decompressed), got more"
                    )
                chunks.append(chunk)
            return self._result(response, b"".join(chunks), None, None, started, retry_after)

    @staticmethod
    def _result(
        response: aiohttp.ClientResponse,
        body: bytes | None,
        sent_etag: str | None,
        sent_last_modified: str | None,
        started: float,
        retry_after: float | None,
    ) -> FetchResult:
        """The result for `response`; validators fall back to the ones sent (for 304s)."""
        headers = response.headers
        return FetchResult(
            status=response.status,
            body=body,
            etag=headers.get("ETag") or sent_etag,
            last_modified=headers.get("Last-Modified") or sent_last_modified,
            content_type=headers.get("Content-Type"),
            final_url=str(response.url),
            elapsed_seconds=time.monotonic() - started,
            body_bytes=len(body) if body is not None else 0,
            retry_after_seconds=retry_after,
            cache_max_age_seconds=_cache_max_age(headers.getall("Cache-Control", [])),
        )
