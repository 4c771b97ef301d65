"""Fuzzing of the two entry points hostile text reaches: `parse_feed` (feed bytes) and `analyze`.

Contract: `parse_feed` returns a `ParsedFeed` or raises `FeedParseError`; anything
else escaping is a bug. `analyze` never raises, and its internal safety net (which
logs "analyze failed" and returns the language only) must not be what keeps it
from raising: a caught exception is a bug hidden, so the tests fail on it too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsradar import analyze
from newsradar.errors import FeedParseError
from newsradar.ingest.parse import ParsedFeed, parse_feed

FETCHED = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- feed bytes ------------------------------------------------------------------------------

#: Pieces of real feed syntax, so that generated bodies reach deep into feedparser.
_XML_PIECES = [
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="x-unknown-42"?>',
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b'<rss version="2.0">',
    b"</rss>",
    b"<channel>",
    b"</channel>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b"</feed>",
    b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>",
    b"<item>",
    b"</item>",
    b"<entry>",
    b"</entry>",
    b"<title>",
    b"</title>",
    b"<link>http://127.0.0.1/a</link>",
    b'<link href="http://127.0.0.1/b"/>',
    b"<link>javascript:alert(1)</link>",
    b"<guid>g-1</guid>",
    b"<id>tag:x,2026:1</id>",
    b"<description>",
    b"</description>",
    b"<content:encoded><![CDATA[<p>Body <b>bold</b>]]></content:encoded>",
    b"<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>",
    b"<pubDate>not a date</pubDate>",
    b"<updated>9999-99-99T99:99:99Z</updated>",
    b"<language>fr</language>",
    b"<language>xx-YY-zz</language>",
    b"<ttl>-5</ttl>",
    b"<ttl>99999999999999999999</ttl>",
    b"<![CDATA[",
    b"]]>",
    b"<!-- c -->",
    b"<!DOCTYPE rss>",
    b'<!DOCTYPE r [<!ENTITY e "x">]>',
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&nbsp;",
    b"&undefined;",
    b"<script>alert(1)</script>",
    b"Microsoft va investir 10 milliards de dollars dans OpenAI",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\x00",
    b"<",
    b">",
    b'"',
]

feed_bodies = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(st.sampled_from(_XML_PIECES), st.binary(max_size=20)), max_size=40).map(
        b"".join
    ),
)
content_types = st.sampled_from(
    [
        None,
        "application/rss+xml",
        "application/atom+xml; charset=utf-8",
        "text/xml; charset=iso-8859-1",
        "text/html",
        "application/json",
        "text/plain; charset=bogus",
    ]
)


@FUZZ
@given(body=feed_bodies, content_type=content_types)
@example(body=b"<>&#2000000;", content_type=None)  # found by this test: feedparser's ValueError
@example(
    body=b"<rss><channel><item><title>&#x110000;</title><guid>g</guid></item>", content_type=None
)
def test_parse_feed_on_arbitrary_bytes_returns_or_raises_feed_parse_error(
    body: bytes, content_type: str | None
) -> None:
    """Any body gives a ParsedFeed of valid articles, or FeedParseError; nothing else escapes."""
    try:
        parsed = parse_feed(
            body,
            feed_url="http://127.0.0.1/fuzz.xml",
            feed_id="fuzz",
            source="Fuzz",
            content_type=content_type,
            fetched=FETCHED,
        )
    except FeedParseError as exc:
        assert str(exc)  # the reason is said
        return
    assert isinstance(parsed, ParsedFeed)
    assert parsed.entries_total >= len(parsed.articles)
    for article in parsed.articles:
        assert article.title and len(article.title) <= 1_000
        assert article.feed_id == "fuzz"
        assert article.id
        assert article.url is None or article.url.startswith(("http://", "https://"))
        article.to_bytes().decode("utf-8")  # always serialisable to the wire


# -- text ----------------------------------------------------------------------------------

#: Words that make `analyze` take its deep paths (money, headcounts, companies, negation, dates).
_WORDS = [
    "Microsoft",
    "OpenAI",
    "Amazon",
    "Anthropic",
    "Google",
    "invests",
    "va investir",
    "investiert",
    "invertirá",
    "raises",
    "lève",
    "cuts",
    "supprime",
    "streicht",
    "despide",
    "jobs",
    "emplois",
    "Stellen",
    "empleos",
    "$",
    "€",
    "£",
    "USD",
    "10",
    "1,5",
    "10.000",
    "1 200",
    "2019",
    "½",
    "%",
    "billion",
    "milliards",
    "Mrd.",
    "mil millones",
    "de dollars",
    "Dollar",
    "dólares",
    "en 2019",
    "a déjà investi",
    "rules out",
    "in",
    "dans",
    "'s",
    ",",
    ".",
    "(",
    ")",
    "\n",
    "İ",
    "ß",
    "\u200b",
    "\u0301",
    "\ud7ff",
]
vocabulary_text = st.lists(
    st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), max_size=40
).map(" ".join)
any_text = st.one_of(st.text(max_size=500), vocabulary_text)


@FUZZ
@given(
    title=any_text,
    summary=any_text,
    language=st.sampled_from([None, "en", "fr", "de", "es", "it", "nl", "xx", ""]),
    published=st.sampled_from([None, "2026-11-26", "2019-01-01", "not-a-date", "0000-00-00"]),
)
def test_analyze_on_arbitrary_text_raises_nothing_and_hides_nothing(
    caplog: pytest.LogCaptureFixture,
    title: str,
    summary: str,
    language: str | None,
    published: str | None,
) -> None:
    """Any text, language hint and date: an Analysis with valid offsets, and no caught exception."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="newsradar"):
        result = analyze(title, summary, language=language, published=published)
    hidden = [r for r in caplog.records if r.exc_info]
    assert not hidden, hidden[0].getMessage() + "\n" + caplog.text
    assert isinstance(result.language, str)
    for org in result.organizations:
        assert result.text[org.start : org.end] == org.surface
    for topic in result.topics:
        for evidence in topic.evidence:
            assert result.text[evidence.start : evidence.end] == evidence.text
