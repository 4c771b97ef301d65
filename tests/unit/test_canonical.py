"""canonical_url, article_id and feed_id: one id per story, however it is linked."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsradar.ingest.canonical import article_id, canonical_url, feed_id, is_tracking_parameter


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/News", "http://example.com/News"),
        ("https://example.com", "https://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?q=a+b", "https://example.com/a?q=a%20b"),
        ("https://example.com/a?q=a%20b", "https://example.com/a?q=a%20b"),
        ("https://example.com/a?flag", "https://example.com/a?flag="),
        (
            "https://www.example.com/story?utm_source=rss&utm_medium=feed&UTM_Campaign=x&id=7",
            "https://www.example.com/story?id=7",
        ),
        (
            "https://example.com/s?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ocid=5&cmpid=6&page=2",
            "https://example.com/s?page=2",
        ),
        (
            "https://example.com/s?at_medium=RSS&at_campaign=feed&ref=home&ref_src=twsrc",
            "https://example.com/s",
        ),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://user:Secret@Example.com/x", "http://user:Secret@example.com/x"),
        ("tag:example.com,2026:/item/1", "tag:example.com,2026:/item/1"),
        ("/relative/path", "/relative/path"),
        ("http://example.com:notaport/", "http://example.com:notaport/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    """Case, default ports, fragments, tracking parameters and order are normalised away."""
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("utm_anything", True),
        ("FBCLID", True),
        ("ref", True),
        ("ref_src", True),
        ("id", False),
        ("page", False),
        ("reference", False),
    ],
)
def test_is_tracking_parameter(name: str, tracking: bool) -> None:
    """Tracking parameter names are matched case-insensitively, utm_ by prefix."""
    assert is_tracking_parameter(name) is tracking


def test_article_id_is_the_same_for_variants_of_one_url() -> None:
    """Tracking, case and fragment variants of one link give one id."""
    ids = {
        article_id("https://news.example.com/a?id=1", None, "f1", "Title"),
        article_id("HTTPS://News.Example.com:443/a?utm_source=x&id=1#top", "g", "f2", "Other"),
        article_id("https://news.example.com/a?id=1&fbclid=abc", None, "f3", ""),
    }
    assert len(ids) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", ids.pop())


def test_article_id_falls_back_to_guid_then_feed_and_title() -> None:
    """Without a link the GUID decides; without both, feed id and title do."""
    by_guid = article_id(None, "urn:x:1", "f1", "Title")
    assert by_guid == article_id("", " urn:x:1 ", "f2", "Other title")
    by_title = article_id(None, None, "f1", "Title  here")
    assert by_title == article_id(None, "  ", "f1", "Title here")
    assert by_title != article_id(None, None, "f2", "Title here")
    assert len({by_guid, by_title, article_id("https://e.example/", None, "f1", "Title")}) == 3


def test_guid_equal_to_a_url_does_not_collide_with_that_url() -> None:
    """Ids are namespaced by kind: a GUID string never maps onto a URL's id."""
    url = "https://e.example/a"
    assert article_id(url, None, "f", "t") != article_id(None, canonical_url(url), "f", "t")


def test_article_id_is_stable_across_releases() -> None:
    """The id of a known URL is pinned: changing it would re-publish every stored article."""
    assert article_id("https://example.com/a", None, "f", "t") == (
        "04eb124138012504ac9b90b7b3d7a6f8"
    )


def test_feed_id_is_short_stable_and_canonical() -> None:
    """feed_id is 16 hex chars and ignores case, default port and tracking parameters."""
    fid = feed_id("https://Example.com:443/rss.xml?utm_source=x")
    assert fid == feed_id("https://example.com/rss.xml")
    assert re.fullmatch(r"[0-9a-f]{16}", fid)
    assert fid != feed_id("https://example.com/atom.xml")


@given(st.text(max_size=200))
def test_canonical_url_never_raises_and_is_idempotent(text: str) -> None:
    """Any string is accepted, and canonicalising twice changes nothing more."""
    once = canonical_url(text)
    assert canonical_url(once) == once


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.from_regex(r"[a-z]{1,10}\.(com|org|example)", fullmatch=True),
    st.lists(st.tuples(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.text(max_size=5))),
)
def test_canonical_url_keeps_non_tracking_parameters(
    scheme: str, host: str, params: list[tuple[str, str]]
) -> None:
    """Every non-tracking parameter survives canonicalisation, sorted."""
    url = f"{scheme}://{host}/p?{urlencode(params)}"
    kept = sorted((k, v) for k, v in params if not is_tracking_parameter(k))
    assert parse_qsl(urlsplit(canonical_url(url)).query, keep_blank_values=True) == kept
