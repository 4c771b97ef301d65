"""Feed bytes -> `Article`s, with feedparser doing the XML and encoding work.

`parse_feed` is synchronous and CPU-bound: the caller runs it in an executor.
It only reads the bytes it is given, never the network or the file system.

Safety notes, checked against feedparser 6.0.x (see tests/unit/test_parse.py):

- feedparser treats a `bytes` or `str` argument that names an existing file as a
  path and reads that file (`feedparser.parse(b"/etc/passwd")`), and fetches a
  `str` that looks like a URL. A hostile server could send such a body, so the
  body is always wrapped in `io.BytesIO`.
- External entities (XXE): feedparser removes the `<!ENTITY>` declarations that
  start a line before the root element and re-inserts only "safe" ones (plain
  text or one character reference); declarations its regular expressions miss
  reach expat unchanged. Its SAX parser has external general entities disabled,
  so `SYSTEM "file:///..."` entities were never read in our tests.
- Entity expansion: nested entities (billion laughs) are dropped by that filter,
  and expat >= 2.4 limits amplification in the strict parser. But a single
  "safe" 100 kB entity referenced 20,000 times makes expat stop with an
  amplification error, after which feedparser's loose (sgmllib) parser expands
  the kept entity itself without limit: measured 45 s and a 2 GB title from a
  2 MB body. We therefore refuse any document that declares an entity, after
  decoding it the way feedparser does (so UTF-16 or UTF-7 cannot hide the
  declaration). Internal entity declarations are vanishingly rare in real feeds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from newsradar.errors import FeedParseError
from newsradar.ingest.canonical import article_id
from newsradar.models import Article, utcnow

__all__ = ["ParsedFeed", "html_to_text", "normalise_language", "parse_feed"]

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 10_000  # descriptions are often whole articles (the seed is 2,160)
MAX_CONTENT_CHARS = 20_000
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed body yielded: its articles and what scheduling and metrics need."""

    articles: list[Article]
    bozo: bool
    bozo_reason: str | None
    feed_language: str | None
    feed_title: str | None
    ttl_minutes: int | None
    entry_times: list[datetime] = field(default_factory=list)
    entries_total: int = 0
    skipped_entries: int = 0


#: Elements whose content is not text for a reader: skipped with their content.
_SKIP_CONTENT = ("script", "style", "template", "head", "noscript")
_SKIP_END = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _SKIP_CONTENT}
#: Inline elements: removed without a space, so "Exam<b>ple</b>" stays one word.
_INLINE = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    }
)
_TAG_NAME = re.compile(r"/?\s*([a-zA-Z][a-zA-Z0-9:-]*)")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, entities decoded and white space collapsed.

    A single forward scan with `str.find`, so time is linear in the input, whatever
    it holds. Python 3.11's `html.parser.HTMLParser` is not: 99 kB of "<a " took
    90 s (measured), a stall any feed could trigger. No extra library either: we
    only need the text, and lxml/BeautifulSoup would put hostile input through
    another parser and grow the dependency list. Unterminated tags and comments
    drop the rest of the fragment, as a browser would; a "<" not followed by a
    tag name ("a < b", "<3") is kept as text.
    """
    if "<" not in fragment:
        return _collapse(unescape(fragment))
    out: list[str] = []
    i, end = 0, len(fragment)
    while i < end:
        lt = fragment.find("<", i)
        if lt < 0:
            out.append(fragment[i:])
            break
        out.append(fragment[i:lt])
        if fragment.startswith("<!--", lt):
            close = fragment.find("-->", lt + 4)
            i = end if close < 0 else close + 3
            out.append(" ")
            continue
        if fragment.startswith("<![CDATA[", lt):
            close = fragment.find("]]>", lt + 9)
            if close < 0:
                break
            out.append(_escape_text(fragment[lt + 9 : close]))
            i = close + 3
            continue
        following = fragment[lt + 1 : lt + 2]
        if not (following.isalpha() or following in ("/", "!", "?")):
            out.append("&lt;")  # a literal "<", unescaped with the rest below
            i = lt + 1
            continue
        gt = fragment.find(">", lt + 1)
        if gt < 0:
            break
        match = _TAG_NAME.match(fragment, lt + 1, gt)
        name = match.group(1).lower() if match else ""
        i = gt + 1
        if name in _SKIP_END and following != "/":
            close_match = _SKIP_END[name].search(fragment, i)
            close_gt = fragment.find(">", close_match.end()) if close_match else -1
            i = end if close_gt < 0 else close_gt + 1
        out.append("" if name in _INLINE else " ")
    return _collapse(unescape("".join(out)))


def _escape_text(text: str) -> str:
    """Escape "&" and "<" so that literal text survives the final unescape unchanged."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _truncate(text: str, limit: int) -> str:
    """Cut at the last word boundary before `limit` and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def normalise_language(value: object) -> str | None:
    """Primary language subtag, lower-case: "en-US" -> "en", "fr_FR" -> "fr"; else None."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _LANGUAGE.fullmatch(primary) else None


def _detail_text(entry: Mapping[str, Any], key: str) -> str:
    """Text of a feedparser text construct (title, summary), HTML removed when it is HTML."""
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        return ""
    detail = entry.get(f"{key}_detail") or {}
    kind = str(detail.get("type") or "").lower()
    if kind in _HTML_TYPES:
        return html_to_text(value)
    return _collapse(unescape(value) if kind != "text/plain" else value)


def _content_text(entry: Mapping[str, Any]) -> str | None:
    """Plain text of the entry's first content block (Atom content / content:encoded)."""
    contents = entry.get("content")
    if not contents:
        return None
    first = contents[0]
    value = first.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    kind = str(first.get("type") or "").lower()
    text = html_to_text(value) if kind in _HTML_TYPES or "<" in value else _collapse(value)
    return _truncate(text, MAX_CONTENT_CHARS) or None


def _published(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's publication (else update) time, aware UTC (feedparser gives UTC tuples)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _http_link(link: object, feed_url: str) -> str | None:
    """An absolute http(s) URL for the entry link, or None (javascript:, mailto:, junk)."""
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        absolute = urljoin(feed_url, link.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _declares_entities(body: bytes, headers: dict[str, str]) -> bool:
    """Whether the document declares an XML entity, once decoded the way feedparser does."""
    if _ENTITY_DECLARATION.search(body.replace(b"\x00", b"")):
        return True
    scratch: dict[str, Any] = {}
    try:
        decoded = convert_to_utf8(dict(headers), body, scratch)
    except Exception:  # a codec feedparser itself cannot use: the raw check above stands
        return False
    return bool(_ENTITY_DECLARATION.search(decoded))


def _ttl_minutes(feed: Mapping[str, Any]) -> int | None:
    value = feed.get("ttl")
    if isinstance(value, str) and value.strip().isdigit():
        minutes = int(value.strip())
        return minutes if minutes > 0 else None
    return None


def _reason(exc: object) -> str | None:
    if exc is None:
        return None
    return f"{type(exc).__name__}: {exc}"[:300]


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    feed_id: str,
    source: str,
    content_type: str | None = None,
    fetched: datetime | None = None,
    max_entries: int = 500,
) -> ParsedFeed:
    """Parse a feed body into Articles; malformed (bozo) feeds still yield what was recovered.

    Raises `FeedParseError` when the body is no feed at all (empty, an HTML page,
    JSON) or declares XML entities (refused, see the module docstring). Entries
    without a title, or without both link and GUID, are skipped and counted.
    """
    if not body.strip():
        raise FeedParseError(f"ingest: expected a feed body from {feed_url}, got an empty body")
    # Without a Content-Type, pass no headers at all: feedparser then sniffs the
    # document like a local file instead of flagging every feed as bozo.
    # No content-location: feedparser would resolve every URI-bearing element against it
    # (a quarter of its time); entry links are made absolute by _http_link instead.
    headers = {"content-type": content_type} if content_type else {}
    if _declares_entities(body, headers):
        raise FeedParseError(
            f"ingest: refused the feed from {feed_url}: it declares XML entities "
            "(entity expansion is a denial-of-service risk)"
        )
    fetched = fetched or utcnow()
    # feedparser's HTML sanitiser and relative-URI rewriting run sgmllib twice over
    # every summary and content block: 85% of the parse time (8.6 MiB feed: 5.7 s
    # with them, 0.9 s without). Articles carry plain text only, made by
    # html_to_text, which drops scripts and styles itself, so both are switched off.
    try:
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:
        # feedparser is meant never to raise, but its loose parser does on some input
        # (a character reference beyond Unicode, "&#2000000;", raises ValueError).
        raise FeedParseError(
            f"ingest: feedparser failed on the body from {feed_url}: {type(exc).__name__}: {exc}"
        ) from exc
    feed: Mapping[str, Any] = result.get("feed", {})
    entries: list[Mapping[str, Any]] = result.get("entries", [])
    bozo = bool(result.get("bozo"))
    reason = _reason(result.get("bozo_exception")) if bozo else None
    feed_title = _detail_text(feed, "title") or None
    # No format recognised and nothing recovered: an HTML page, JSON, an empty
    # document. (A well-formed document with channel data but no entries, such as
    # a CDF channel, is an empty feed rather than an error.)
    if not result.get("version") and not entries and (bozo or not feed):
        raise FeedParseError(
            f"ingest: expected an RSS, Atom or RDF feed from {feed_url}, "
            f"found none ({reason or 'no feed elements'})"
        )
    feed_language = normalise_language(feed.get("language")) or normalise_language(
        (feed.get("title_detail") or {}).get("language")
    )

    articles: list[Article] = []
    entry_times: list[datetime] = []
    skipped = 0
    for entry in entries[:max_entries]:
        published = _published(entry)
        if published is not None:
            entry_times.append(published)
        title = _truncate(_detail_text(entry, "title"), MAX_TITLE_CHARS)
        link = _http_link(entry.get("link"), feed_url)
        guid_value = entry.get("id")
        guid = guid_value.strip() if isinstance(guid_value, str) and guid_value.strip() else None
        if not title or not (link or guid):
            skipped += 1
            continue
        language = (
            normalise_language((entry.get("title_detail") or {}).get("language"))
            or normalise_language((entry.get("summary_detail") or {}).get("language"))
            or feed_language
        )
        articles.append(
            Article(
                id=article_id(link, guid, feed_id, title),
                feed_id=feed_id,
                feed_url=feed_url,
                source=source,
                url=link,
                guid=guid,
                title=title,
                summary=_truncate(_detail_text(entry, "summary"), MAX_SUMMARY_CHARS),
                content=_content_text(entry),
                language=language,
                published=published,
                fetched=fetched,
            )
        )
    return ParsedFeed(
        articles=articles,
        bozo=bozo,
        bozo_reason=reason,
        feed_language=feed_language,
        feed_title=feed_title,
        ttl_minutes=_ttl_minutes(feed),
        entry_times=entry_times,
        entries_total=len(entries),
        skipped_entries=skipped + max(0, len(entries) - max_entries),
    )
