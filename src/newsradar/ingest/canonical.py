"""Canonical URLs and the stable ids derived from them.

The same story reaches newsradar through several feeds, often with different
tracking parameters, upper-case hosts or fragments. `canonical_url` removes those
differences so that `article_id` gives one id per story; `feed_id` gives one id
per feed, which keys the feed-state table.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMETERS", "article_id", "canonical_url", "feed_id", "is_tracking_parameter"]

#: Query parameters that only say where a click came from (compared case-insensitively).
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "smid",
        "xtor",
        "__twitter_impression",
    }
)
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ID_HEX_CHARS = 32
_FEED_ID_HEX_CHARS = 16


def is_tracking_parameter(name: str) -> bool:
    """Whether a query parameter name is a click-tracking one that never changes the page."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The URL with case, default port, fragment and tracking parameters normalised away.

    Only http(s) URLs are rewritten; anything else (a `tag:` URI, a relative path,
    an unparsable string) comes back stripped of surrounding white space, so the
    function never raises on feed input.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return text
        host = parts.hostname.rstrip(".")  # urlsplit lower-cases the host already
        port = parts.port
    except ValueError:  # e.g. a port that is not a number, or a bad IPv6 literal
        return text
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(key)
    ]
    query = urlencode(sorted(pairs), quote_via=quote)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _digest(material: str, chars: int) -> str:
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:chars]


def article_id(url: str | None, guid: str | None, feed_id: str, title: str) -> str:
    """A stable 32-hex-char id: of the canonical URL, else of the GUID, else of feed and title.

    The material is prefixed by its kind so that a GUID equal to some URL string
    cannot collide with a different article's URL id.
    """
    if url and url.strip():
        return _digest("url:" + canonical_url(url), _ID_HEX_CHARS)
    if guid and guid.strip():
        return _digest("guid:" + guid.strip(), _ID_HEX_CHARS)
    return _digest(f"title:{feed_id}\n{' '.join(title.split())}", _ID_HEX_CHARS)


def feed_id(url: str) -> str:
    """A stable 16-hex-char id of the canonical feed URL (the key of the feed-state table)."""
    return _digest("feed:" + canonical_url(url), _FEED_ID_HEX_CHARS)
