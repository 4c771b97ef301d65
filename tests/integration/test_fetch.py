"""FeedFetcher against a real aiohttp server on 127.0.0.1 (see feedserver.py)."""

from __future__ import annotations

import gzip
import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from newsradar.errors import (
    BlockedAddressError,
    FeedParseError,
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from newsradar.ingest.fetch import (
    DEFAULT_USER_AGENT,
    AddressPolicy,
    FeedFetcher,
    FetchSettings,
)
from newsradar.ingest.parse import parse_feed
from tests.integration.feedserver import FEEDS_DIR, LAST_MODIFIED, SAMPLE_FEED, FeedServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MIB = 1024 * 1024
LOOPBACK_OK = FetchSettings(allow_private_addresses=True)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as s:
        yield s


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    async with FeedFetcher(LOOPBACK_OK) as f:
        yield f


# -- plain and conditional GET ------------------------------------------------


async def test_fetch_returns_body_validators_and_metadata(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """A 200 carries the exact file bytes, ETag, Last-Modified, content type and sizes."""
    expected = (FEEDS_DIR / "newsradar" / "sample_rss.xml").read_bytes()
    result = await fetcher.fetch(server.url(SAMPLE_FEED + "?max_age=600"))
    assert result.status == 200
    assert result.body == expected
    assert result.body_bytes == len(expected)
    assert result.etag is not None and result.etag.startswith('"')
    assert result.last_modified == format_datetime(LAST_MODIFIED, usegmt=True)
    assert result.content_type == "application/xml"
    assert result.final_url == server.url(SAMPLE_FEED + "?max_age=600")
    assert result.cache_max_age_seconds == 600
    assert result.retry_after_seconds is None
    assert 0 <= result.elapsed_seconds < 5


async def test_request_identifies_newsradar_and_asks_for_compression(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """The User-Agent names newsradar and its version; gzip is accepted."""
    await fetcher.fetch(server.url(SAMPLE_FEED))
    headers = server.last_headers(SAMPLE_FEED)
    assert headers["user-agent"] == DEFAULT_USER_AGENT
    assert re.fullmatch(
        r"newsradar/\S+ \(\+https://github.com/newsradar/newsradar\)", headers["user-agent"]
    )
    assert "gzip" in headers["accept-encoding"]
    assert "if-none-match" not in headers and "if-modified-since" not in headers


async def test_matching_etag_gives_304_without_body(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """A second poll with the ETag sends If-None-Match and gets a bodiless 304."""
    first = await fetcher.fetch(server.url(SAMPLE_FEED))
    second = await fetcher.fetch(server.url(SAMPLE_FEED), etag=first.etag)
    assert server.last_headers(SAMPLE_FEED)["if-none-match"] == first.etag
    assert second.status == 304
    assert second.body is None and second.body_bytes == 0
    assert second.etag == first.etag
    assert server.count(SAMPLE_FEED) == 2


async def test_if_modified_since_gives_304_and_keeps_sent_validator(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """If-Modified-Since alone gives a 304; the Last-Modified sent is returned for next time."""
    since = format_datetime(LAST_MODIFIED + timedelta(hours=1), usegmt=True)
    result = await fetcher.fetch(server.url(SAMPLE_FEED), last_modified=since)
    assert server.last_headers(SAMPLE_FEED)["if-modified-since"] == since
    assert result.status == 304 and result.body is None
    assert result.last_modified == since


async def test_stale_etag_gives_full_body(server: FeedServer, fetcher: FeedFetcher) -> None:
    """A non-matching ETag gets the full feed and the new ETag."""
    result = await fetcher.fetch(server.url(SAMPLE_FEED), etag='"stale"')
    assert result.status == 200
    assert result.body is not None and b"<rss" in result.body
    assert result.etag != '"stale"'


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_body_is_decompressed(
    server: FeedServer, fetcher: FeedFetcher, encoding: str
) -> None:
    """gzip and deflate bodies come back decompressed, counted decompressed."""
    expected = (FEEDS_DIR / "newsradar" / "sample_rss.xml").read_bytes()
    result = await fetcher.fetch(server.url(f"/{encoding}/newsradar/sample_rss.xml"))
    assert result.body == expected
    assert result.body_bytes == len(expected)


# -- limits -------------------------------------------------------------------------


async def test_gzip_bomb_is_cut_at_decompressed_cap(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """1 GiB of zeros in a 1 MiB gzip body stops at the 10 MiB cap, without inflating it all."""
    compressed = server.prepare_bomb(1024)
    assert len(compressed) < 2 * MIB
    started = time.monotonic()
    with pytest.raises(ResponseTooLargeError) as caught:
        await fetcher.fetch(server.url("/bomb?mib=1024"))
    elapsed = time.monotonic() - started
    assert caught.value.kind == "too_large"
    assert "decompressed" in str(caught.value)
    assert elapsed < 10  # inflating the whole GiB would not stop at the cap at all
    print(f"gzip bomb (1 GiB inflated, {len(compressed)} B sent) refused after {elapsed:.3f}s")


async def test_huge_streamed_body_is_cut_at_cap(server: FeedServer, fetcher: FeedFetcher) -> None:
    """A 1 GiB chunked body without Content-Length is cut once 10 MiB have arrived."""
    started = time.monotonic()
    with pytest.raises(ResponseTooLargeError):
        await fetcher.fetch(server.url("/huge"))
    elapsed = time.monotonic() - started
    assert elapsed < 10
    print(f"1 GiB stream cut at 10 MiB after {elapsed:.2f}s")


async def test_declared_huge_body_is_refused_before_reading(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """A Content-Length over the cap is refused from the headers alone."""
    with pytest.raises(ResponseTooLargeError) as caught:
        await fetcher.fetch(server.url("/huge?declare=1"))
    assert "Content-Length" in str(caught.value)


async def test_body_at_cap_is_accepted(server: FeedServer) -> None:
    """A body of exactly max_body_bytes passes; one byte more does not."""
    settings = FetchSettings(allow_private_addresses=True, max_body_bytes=MIB)
    async with FeedFetcher(settings) as fetcher:
        result = await fetcher.fetch(server.url(f"/huge?bytes={MIB}"))
        assert result.body_bytes == MIB
        with pytest.raises(ResponseTooLargeError):
            await fetcher.fetch(server.url(f"/huge?bytes={MIB + 1}"))


async def test_trickled_body_is_cut_by_total_timeout(server: FeedServer) -> None:
    """A body sent one byte per second is abandoned at the total timeout."""
    settings = FetchSettings(allow_private_addresses=True, total_timeout_seconds=1.5)
    async with FeedFetcher(settings) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(server.url("/trickle?bytes=60&delay=1"))
        elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert 1.4 <= elapsed < 10  # cut near 1.5 s; the upper bound only proves no hang
    print(f"trickle cut after {elapsed:.2f}s (total timeout 1.5s)")


async def test_slow_headers_are_cut_by_total_timeout(server: FeedServer) -> None:
    """A server that never answers headers is abandoned at the total timeout."""
    settings = FetchSettings(allow_private_addresses=True, total_timeout_seconds=0.5)
    async with FeedFetcher(settings) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(server.url("/slow?delay=5"))
    assert caught.value.kind == "timeout"


async def test_connection_refused_is_a_connect_error(server: FeedServer) -> None:
    """A closed port gives kind "connect"."""
    port = server.port
    await server.close()
    async with FeedFetcher(LOOPBACK_OK) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(f"http://127.0.0.1:{port}/feeds/x.xml")
    assert caught.value.kind == "connect"


class _HostsResolver(AbstractResolver):
    """Resolves from a fixed table, like /etc/hosts, so tests never send a DNS query."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.table:
            raise OSError(socket.EAI_NONAME, f"{host}: name not known")
        address = self.table[host]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


async def test_unresolvable_host_is_a_dns_error() -> None:
    """A name the resolver does not know fails with kind "dns"."""
    async with FeedFetcher(LOOPBACK_OK, resolver=_HostsResolver({})) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch("http://feeds.newsradar.invalid/rss.xml")
    assert caught.value.kind == "dns"


async def test_name_resolving_to_metadata_address_is_refused(server: FeedServer) -> None:
    """A public-looking name that resolves to 169.254.169.254 is refused by the guard."""
    resolver = _HostsResolver({"feeds.example.test": "169.254.169.254", "ok.test": "127.0.0.1"})
    settings = FetchSettings(allowed_networks=("127.0.0.0/8",))
    async with FeedFetcher(settings, resolver=resolver) as fetcher:
        ok = await fetcher.fetch(f"http://ok.test:{server.port}{SAMPLE_FEED}")
        assert ok.status == 200
        with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
            await fetcher.fetch("http://feeds.example.test/rss.xml")
        redirect = f"/redirect?to=http://feeds.example.test:{server.port}{SAMPLE_FEED}"
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch(f"http://ok.test:{server.port}{redirect}")
    assert server.count(SAMPLE_FEED) == 1


async def test_truncated_body_is_a_payload_error(server: FeedServer, fetcher: FeedFetcher) -> None:
    """A connection closed before Content-Length bytes arrived gives kind "payload"."""

    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"<rss version")
        assert request.transport is not None
        request.transport.close()
        return response

    server.on("/truncated", truncated)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(server.url("/truncated"))
    assert caught.value.kind == "payload"
    assert server.count("/truncated") == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/feed.xml",
        "file:///etc/passwd",
        "feed.xml",
        "http://[::1/feed.xml",
        "http://2130706433/feed.xml",  # legacy numeric form of 127.0.0.1
        "http:///feed.xml",
    ],
)
async def test_only_http_schemes_are_fetched(fetcher: FeedFetcher, url: str) -> None:
    """Non-http(s) and malformed URLs are refused before any connection."""
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "invalid_url"


# -- redirects ----------------------------------------------------------------------


async def test_redirect_chain_within_limit_is_followed(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """Five redirects (the default limit) still reach the feed; final_url says where."""
    result = await fetcher.fetch(server.url("/chain/5"))
    assert result.status == 200
    assert result.final_url == server.url(SAMPLE_FEED)
    assert [server.count(f"/chain/{n}") for n in range(1, 6)] == [1, 1, 1, 1, 1]


async def test_too_long_redirect_chain_is_refused(server: FeedServer, fetcher: FeedFetcher) -> None:
    """Six redirects exceed max_redirects=5."""
    with pytest.raises(TooManyRedirectsError):
        await fetcher.fetch(server.url("/chain/6"))
    assert server.count(SAMPLE_FEED) == 0


@pytest.mark.parametrize("path", ["/loop/0", "/pingpong/a"])
async def test_redirect_loops_stop_at_the_limit(
    server: FeedServer, fetcher: FeedFetcher, path: str
) -> None:
    """Endless and two-URL redirect loops end with TooManyRedirectsError after 6 requests."""
    with pytest.raises(TooManyRedirectsError) as caught:
        await fetcher.fetch(server.url(path))
    assert caught.value.kind == "too_many_redirects"
    assert len(server.requests) == 6


async def test_zero_max_redirects_follows_none(server: FeedServer) -> None:
    """max_redirects=0 means no redirect at all (aiohttp alone would read 0 as unlimited)."""
    settings = FetchSettings(allow_private_addresses=True, max_redirects=0)
    async with FeedFetcher(settings) as fetcher:
        with pytest.raises(TooManyRedirectsError):
            await fetcher.fetch(server.url("/chain/1"))
        assert (await fetcher.fetch(server.url(SAMPLE_FEED))).status == 200
    assert server.count(SAMPLE_FEED) == 1


async def test_redirect_to_non_http_scheme_is_refused(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """A redirect to file:// is not followed."""
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(server.url("/redirect?to=file:///etc/passwd"))
    assert caught.value.kind == "invalid_url"


# -- status codes ----------------------------------------------------------------


async def test_429_carries_retry_after_seconds(server: FeedServer, fetcher: FeedFetcher) -> None:
    """A 429 raises HTTPStatusError with the Retry-After delay in seconds."""
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(server.url("/status/429?retry_after=120"))
    assert caught.value.status == 429
    assert caught.value.retry_after_seconds == 120
    assert caught.value.kind == "http_status"


async def test_503_carries_retry_after_http_date(server: FeedServer, fetcher: FeedFetcher) -> None:
    """A Retry-After HTTP date becomes the seconds from now until then."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(server.url(f"/status/503?retry_after={when}"))
    assert caught.value.status == 503
    assert caught.value.retry_after_seconds is not None
    assert 290 <= caught.value.retry_after_seconds <= 300


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_error_statuses_raise(server: FeedServer, fetcher: FeedFetcher, status: int) -> None:
    """4xx and 5xx raise HTTPStatusError with the status and no Retry-After."""
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(server.url(f"/status/{status}"))
    assert caught.value.status == status
    assert caught.value.retry_after_seconds is None


async def test_empty_200_is_a_result_that_parse_refuses(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """An empty 200 is fetched fine (body b"") and parse_feed names it as no feed."""
    result = await fetcher.fetch(server.url("/empty"))
    assert result.status == 200 and result.body == b"" and result.body_bytes == 0
    with pytest.raises(FeedParseError, match="empty body"):
        parse_feed(result.body or b"", feed_url=result.final_url, feed_id="f", source="s")


async def test_html_page_is_fetched_and_parse_refuses_it(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    """An HTML page instead of a feed is fetched and then refused by parse_feed."""
    result = await fetcher.fetch(server.url("/html"))
    assert result.content_type is not None and result.content_type.startswith("text/html")
    with pytest.raises(FeedParseError, match="expected an RSS, Atom or RDF feed"):
        parse_feed(
            result.body or b"",
            feed_url=result.final_url,
            feed_id="f",
            source="s",
            content_type=result.content_type,
        )


# -- address guard ------------------------------------------------------------------


async def test_loopback_feed_is_refused_by_default(server: FeedServer) -> None:
    """With the default settings a feed on 127.0.0.1 is refused and never reached."""
    async with FeedFetcher(FetchSettings()) as fetcher:
        with pytest.raises(BlockedAddressError) as caught:
            await fetcher.fetch(server.url(SAMPLE_FEED))
    assert caught.value.kind == "blocked_address"
    assert "127.0.0.1" in str(caught.value)
    assert server.count(SAMPLE_FEED) == 0


async def test_localhost_name_is_refused_through_the_resolver(server: FeedServer) -> None:
    """A host name resolving to loopback is refused by the guarded resolver."""
    async with FeedFetcher(FetchSettings()) as fetcher:
        with pytest.raises(BlockedAddressError, match="resolve to a public address"):
            await fetcher.fetch(f"http://localhost:{server.port}{SAMPLE_FEED}")
    assert server.count(SAMPLE_FEED) == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fe80::1]/",
        "http://10.0.0.1/",
    ],
)
async def test_redirect_from_allowed_host_to_metadata_address_is_refused(
    server: FeedServer, target: str
) -> None:
    """Loopback allowed by CIDR, a redirect to link-local/private is still refused at connect."""
    settings = FetchSettings(allowed_networks=("127.0.0.0/8",), connect_timeout_seconds=2)
    async with FeedFetcher(settings) as fetcher:
        ok = await fetcher.fetch(server.url(SAMPLE_FEED))
        assert ok.status == 200
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch(server.url(f"/redirect?to={target}"))
    assert server.count("/redirect") == 1


async def test_redirect_to_loopback_is_refused_when_only_another_network_is_allowed(
    server: FeedServer,
) -> None:
    """Every redirect hop is checked: 127.0.0.2 allowed, its redirect to 127.0.0.1 refused."""
    settings = FetchSettings(allowed_networks=("127.0.0.2/32",))
    async with FeedServer(host="127.0.0.2") as first, FeedFetcher(settings) as fetcher:
        assert (await fetcher.fetch(first.url(SAMPLE_FEED))).status == 200
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
            await fetcher.fetch(first.url(f"/redirect?to={server.url(SAMPLE_FEED)}"))
        assert first.count("/redirect") == 1
    assert server.count(SAMPLE_FEED) == 0


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("not-an-ip", False),
    ],
)
def test_address_policy_table(address: str, allowed: bool) -> None:
    """The default policy allows only public unicast addresses, unwrapping embedded IPv4."""
    assert AddressPolicy().allows(address) is allowed


def test_address_policy_exemptions() -> None:
    """allow_private allows all; an allowed CIDR lets only its own addresses through."""
    assert AddressPolicy(allow_private=True).allows("169.254.169.254")
    policy = AddressPolicy.from_settings(FetchSettings(allowed_networks=("127.0.0.0/8",)))
    assert policy.allows("127.0.0.1")
    assert policy.allows("::ffff:127.0.0.1")
    assert not policy.allows("169.254.169.254")
    assert not policy.allows("::1")


def test_settings_reject_a_bad_network() -> None:
    """A malformed allowed_networks entry fails when the settings are built."""
    with pytest.raises(ValueError, match="not-a-cidr"):
        FetchSettings(allowed_networks=("not-a-cidr",))


# -- the corpus end to end ----------------------------------------------------------


async def test_whole_corpus_fetches_and_parses(server: FeedServer, fetcher: FeedFetcher) -> None:
    """Every corpus file served over HTTP (with its declared Content-Type) fetches and parses.

    Each either yields a ParsedFeed or a FeedParseError; the files refused are
    exactly the known non-feeds and the entity-declaring ones.
    """
    corpus = FEEDS_DIR / "feedparser"
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "LICENSE")
    refused: set[str] = set()
    with_articles = 0
    started = time.monotonic()
    for path in files:
        relative = path.relative_to(FEEDS_DIR).as_posix()
        result = await fetcher.fetch(server.url(f"/feeds/{relative}"))
        assert result.body == path.read_bytes()
        try:
            parsed = parse_feed(
                result.body or b"",
                feed_url=result.final_url,
                feed_id="corpus",
                source="corpus",
                content_type=result.content_type,
            )
        except FeedParseError:
            refused.add(Path(relative).relative_to("feedparser").as_posix())
            continue
        with_articles += bool(parsed.articles)
    elapsed = time.monotonic() - started
    print(
        f"{len(files)} corpus files fetched+parsed in {elapsed:.2f}s; {with_articles} with articles"
    )
    assert refused == {
        "illformed/rss_empty_document.xml",
        "json/example.json",
        "wellformed/rdf/doctype_contains_entity_decl.xml",
        "wellformed/rss/entity_in_doctype.xml",
    }
    assert with_articles >= 20


async def test_gzip_helper_matches_file(server: FeedServer) -> None:
    """The server's gzip route really sends gzip (guards the compression tests)."""
    import aiohttp

    url = server.url("/gzip/newsradar/sample_rss.xml")
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(url) as response,
    ):
        raw = await response.read()
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw) == (FEEDS_DIR / "newsradar" / "sample_rss.xml").read_bytes()
