"""Replay: run the stage code in memory over articles from files, print the decisions.

`newsradar replay FILE...` reads articles (`load_articles`), feeds them in order to
a `Replayer`, which runs exactly the functions the agents call, without a broker:

    Article -> analyze -> enrich (fingerprint, near duplicates) -> Enriched
            -> reports_from -> apply_and_decide (events + rules) -> Alert decisions

Each message crosses the same JSON encoding it would cross on Kafka, so a model
that would not survive the wire fails here too. `decision_json` is the `--json`
line for one decision.

Input files are recognised by content, not by name:

- JSON Lines (first character `{`): either dumps of `news.articles` (Article
  fields), or evaluation items shaped like ../shared/data/news_dev.jsonl (`id`,
  `title`, `summary`, `published` YYYY-MM-DD or null, `published_approx` YYYY-MM or
  YYYY, `source` an outlet name or URL, `lang`, optional `original_url`);
- RSS / Atom (first character `<`), read with the ingest parser;
- anything else: plain text, one article (first line, or first sentence, as title).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsradar.alerts.rules import apply_and_decide
from newsradar.config import Settings
from newsradar.errors import DecodeError, NewsradarError
from newsradar.events import EventBook, reports_from
from newsradar.fingerprint import FingerprintIndex, enrich
from newsradar.ingest.canonical import article_id, feed_id
from newsradar.models import Alert, Article, Enriched, Event, decode, utcnow
from newsradar.nlp.schema import Analysis

AnalyzeFn = Callable[..., Analysis]

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+")


# --- loading --------------------------------------------------------------------------


def _parse_date(value: object) -> datetime | None:
    """YYYY, YYYY-MM or YYYY-MM-DD (or a full ISO timestamp) as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "T" in text:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    match = _DATE.match(text)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    try:
        return datetime(int(year), int(month), int(day), tzinfo=UTC)
    except ValueError:
        return None


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def article_from_item(item: dict[str, Any], *, feed_url: str, feed_id: str) -> Article:
    """An Article from one JSON Lines object: an Article dump or an evaluation item."""
    if "feed_id" in item and "feed_url" in item:
        return decode(Article, item)
    title = str(item.get("title") or "").strip()
    if not title:
        raise ValueError("expected a non-empty 'title'")
    source = item.get("source")
    url = next((u for u in (item.get("url"), item.get("original_url"), source) if _is_url(u)), None)
    if isinstance(source, str) and source and not _is_url(source):
        name = _host(url) if url and "/" in source else source
    else:
        name = _host(url) if url else feed_id
    published = _parse_date(item.get("published")) or _parse_date(item.get("published_approx"))
    language = item.get("language") or item.get("lang")
    return Article(
        id=str(item.get("id") or article_id(url, item.get("guid"), feed_id, title)),
        feed_id=feed_id,
        feed_url=feed_url,
        source=name,
        url=url,
        guid=item.get("guid"),
        title=title,
        summary=str(item.get("summary") or ""),
        language=language if isinstance(language, str) and len(language) == 2 else None,
        published=published,
    )


def _load_jsonl(text: str, path: Path, feed_url: str, fid: str) -> list[Article]:
    articles: list[Article] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError(f"expected a JSON object, got {type(item).__name__}")
            articles.append(article_from_item(item, feed_url=feed_url, feed_id=fid))
        except (ValueError, DecodeError) as exc:
            raise DecodeError(f"replay: {path}:{lineno}: {exc}") from exc
    return articles


def _load_feed(body: bytes, path: Path, feed_url: str, fid: str) -> list[Article]:
    from newsradar.ingest.parse import parse_feed

    parsed = parse_feed(body, feed_url=feed_url, feed_id=fid, source=path.stem)
    name = (parsed.feed_title or "").strip()
    if not name:
        return list(parsed.articles)
    return [a.model_copy(update={"source": name}) for a in parsed.articles]


def _load_text(text: str, feed_url: str, fid: str) -> list[Article]:
    body = text.strip()
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if len(lines) > 1:
        title, summary = lines[0], " ".join(lines[1:])
    else:
        parts = _SENTENCE_END.split(body, maxsplit=1)
        title, summary = parts[0], parts[1] if len(parts) > 1 else ""
    return [
        Article(
            id=article_id(None, None, fid, title),
            feed_id=fid,
            feed_url=feed_url,
            source=Path(urlsplit(feed_url).path).stem or "text",
            title=title,
            summary=summary,
        )
    ]


def load_articles(path: str | Path) -> list[Article]:
    """Articles from a JSON Lines, RSS/Atom or plain-text file, in file order.

    Raises DecodeError naming the file and line for a malformed JSON line, and
    FeedParseError for a body that looks like XML but is no feed.
    """
    path = Path(path)
    body = path.read_bytes()
    feed_url = path.resolve().as_uri()
    fid = feed_id(feed_url)
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return _load_feed(body, path, feed_url, fid)
    text = body.decode("utf-8-sig", errors="replace")
    if head == b"{":
        return _load_jsonl(text, path, feed_url, fid)
    if not text.strip():
        return []
    return _load_text(text, feed_url, fid)


# --- the in-memory pipeline -----------------------------------------------------------


def _default_analyze() -> AnalyzeFn:
    from newsradar.nlp.analyze import analyze

    return analyze


class Replayer:
    """The enrich -> events -> decide stages in memory, with their state in dicts.

    `books` is what the events table would hold (book key -> EventBook), `index`
    the near-duplicate index, `events` every Event state emitted and `failures`
    (article id, reason) for articles that would have gone to the dead-letter topic.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        analyze: AnalyzeFn | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self._analyze = analyze or _default_analyze()
        self._clock = clock
        self.index = FingerprintIndex()
        self.books: dict[str, EventBook] = {}
        self.events: list[Event] = []
        self.enriched: list[Enriched] = []
        self.failures: list[tuple[str, str]] = []

    def enrich(self, article: Article) -> Enriched:
        """The enrich stage: analyze the article and fingerprint it."""
        published = article.published.date().isoformat() if article.published else None
        analysis = self._analyze(
            article.title, article.summary, language=article.language, published=published
        )
        enriched = enrich(article, analysis, self.index)
        return decode(Enriched, enriched.to_bytes())  # what the next stage would read

    def feed(self, article: Article) -> list[Alert]:
        """Run one article through every stage; return the alert decisions it caused."""
        try:
            enriched = self.enrich(decode(Article, article.to_bytes()))
        except NewsradarError as exc:
            self.failures.append((article.id, str(exc)))
            return []
        self.enriched.append(enriched)
        alerts: list[Alert] = []
        for report in reports_from(enriched):
            book, event, decided = apply_and_decide(
                self.books.get(report.book_key),
                report,
                self.settings.events,
                self.settings.rules,
                now=self._clock(),
            )
            self.books[report.book_key] = decode(EventBook, book.to_bytes())
            self.events.append(event)
            alerts.extend(decode(Alert, a.to_bytes()) for a in decided)
        return alerts

    def feed_all(self, articles: Iterable[Article]) -> list[Alert]:
        """Feed articles in order; return all decisions."""
        alerts: list[Alert] = []
        for article in articles:
            alerts.extend(self.feed(article))
        return alerts

    def current_events(self) -> list[Event]:
        """The latest state of every event seen, in order of first appearance."""
        latest: dict[str, Event] = {}
        for event in self.events:
            latest[event.event_id] = event
        return list(latest.values())


def decision_json(alert: Alert) -> dict[str, Any]:
    """One alert decision as a flat JSON-ready dict (the `replay --json` line)."""
    event = alert.event
    data = event.model_dump(mode="json", exclude={"schema_version", "key"})
    return {
        "rule": alert.rule,
        "reason": alert.reason,
        "ledger_key": alert.ledger_key,
        "channels": list(alert.channels),
        "event_key": event.key,
        **data,
        "decided_at": alert.decided_at.isoformat(),
    }


def _money(value: float) -> str:
    for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


def decision_line(alert: Alert) -> str:
    """One alert decision as one human-readable line (replay without --json)."""
    event = alert.event
    if event.kind == "deal":
        what = f"deal {event.investor} -> {event.target}"
        if event.amount_usd is not None:
            what += f" ${_money(event.amount_usd)}"
        elif event.amount is not None:
            what += f" {_money(event.amount)} {event.currency or ''}".rstrip()
    else:
        what = f"layoff {event.company}"
        if event.headcount is not None:
            what += f" {event.headcount} jobs"
        elif event.percent is not None:
            what += f" {event.percent:g}%"
    if event.stage:
        what += f" ({event.stage})"
    sources = len(event.sources)
    return (
        f"[{alert.rule}] {alert.reason}: {what}; {sources} source{'s' * (sources != 1)}, "
        f"{event.first_seen.date().isoformat()}; {event.title} ({alert.ledger_key})"
    )


def replay_files(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    as_json: bool = False,
    write: Callable[[str], object] = print,
    replayer: Replayer | None = None,
) -> list[Alert]:
    """The body of `newsradar replay`: load each file in order, feed it, write each decision.

    With `as_json`, one compact JSON object a line (`decision_json`), else `decision_line`.
    Raises DecodeError / FeedParseError (NewsradarError) for an unreadable file.
    """
    replayer = replayer or Replayer(settings)
    alerts: list[Alert] = []
    for path in paths:
        for article in load_articles(path):
            for alert in replayer.feed(article):
                alerts.append(alert)
                if as_json:
                    write(json.dumps(decision_json(alert), ensure_ascii=False))
                else:
                    write(decision_line(alert))
    return alerts
