"""Events: group reports of one real-world deal or layoff, however many outlets report it.

Pure stage logic; the Faust agent regroups `news.enriched` by event key
(`group_by`) so every report of one deal meets its `EventBook` on one partition,
then calls `reports_from` and `apply`.

    Enriched --reports_from--> [Report, ...] --apply(book)--> (book', Event)

Event keys are canonical and order-preserving: `deal:<investor>|<target>`
(`deal:?|<target>` when no outlet named the investor yet), `layoff:<company>`.
Reports meet in books: a layoff's book is its key; a deal's book holds every deal
into its target (`deal:*|<target>`), so that reports that name the lead and reports
that do not ("Mistral AI raises EUR 600m") can be told apart or joined. A book
holds a bounded list of events (the same two companies may sign several deals over
the years; one target raises several rounds).

Matching a report to an event of its book: the report time (published, else
fetched) lies within `window_days` of the event's span [first_seen, last_seen],
and for deals the investors agree (the same, one side names none, or one side's lead
is among the other's backers) and the amount agrees within `amount_tolerance`
(relative) with an amount already seen, or either side has no amount, or one side
is at the talks stage and the other announced or completed (figures during talks are
estimates: "in talks to invest about $10 billion", then "invests $14.3 billion").
Layoffs match on company and window only: a different headcount is an update of the
same layoff.

Statuses and what changes an event:

- new: the first report of an event.
- update: any later report; `changed` lists what it changed: "investor" (the
  first report naming the lead of an event opened without one), "amount" (the first
  amount; a revised amount in the same currency; or, across currencies, one beyond
  the tolerance: smaller differences are conversion noise; never from a report at
  an earlier stage than the event), "headcount" (a new headcount, or a percent when
  no headcount is known), "stage" (moved forward talks -> announced -> completed,
  or to denied), "sources", "languages" (a new outlet or language).
- background: a past mention ("invested $1 billion in 2019") that matches no
  current event opens a background event, which never alerts. A background mention
  matching a current event counts as one more report (source, language) but never
  changes its amount, headcount or stage. A current report never matches a
  background-only event: a recalled deal is not the one announced today.

Idempotency: every report has an identity (`<article id>#<ordinal>`); a report
already folded into an event (a redelivery or a replay) yields the same book and
an Event with `repeat=True`, `changed=[]` (decide() then does nothing). A second
report of the same event from the same article may add figures but never counts
the article twice. The ledger keys of alerts already decided for an event are kept in
its record (`EventBook.alerted`, `EventBook.with_alerted`), so no extra table is
needed to make alerting idempotent.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newsradar.config import EventSettings
from newsradar.models import Change, Enriched, Event, EventKind, EventStatus, WireModel, decode
from newsradar.nlp.schema import Stage

MAX_EVENTS_PER_KEY = 32
MAX_REPORT_IDS = 200  # per event; keeps a busy key's book well under Kafka's 1 MB message limit
MAX_SOURCES = 128
MAX_AMOUNTS = 32
MAX_ALERTED = 256

_STAGE_RANK: dict[str, int] = {"talks": 1, "announced": 2, "completed": 3, "denied": 4}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Report(WireModel):
    """One deal or layoff as one article reports it: the unit `apply` folds into events.

    A wire model so that the agent can repartition reports by `book_key` (an
    article may report several deals and layoffs, each with its own key).
    """

    key: str
    kind: EventKind
    ordinal: int = Field(default=0, ge=0, description="index among the article's reports")
    article_id: str
    source: str
    language: str
    time: AwareDatetime = Field(description="published, else fetched")
    title: str
    url: str | None = None
    investor: str | None = None
    target: str | None = None
    co_investors: list[str] = Field(default_factory=list)
    company: str | None = None
    amount_usd: float | None = None
    amount: float | None = None
    currency: str | None = None
    headcount: int | None = None
    percent: float | None = None
    stage: Stage | None = None
    background: bool = False
    evidence: str = ""
    near_duplicate_of: str | None = None
    fetched: AwareDatetime | None = Field(default=None, description="when the article was fetched")
    published: AwareDatetime | None = Field(default=None, description="the article's own date")

    @property
    def report_id(self) -> str:
        """Identity of this report: its article and its position in the article's reports."""
        return f"{self.article_id}#{self.ordinal}"

    @property
    def has_amount(self) -> bool:
        """True when the report gives an amount of money."""
        return self.amount_usd is not None or self.amount is not None

    @property
    def book_key(self) -> str:
        """The key of the book (and partition) this report is folded into."""
        if self.kind == "deal" and self.target:
            return deal_book_key(self.target)
        return self.key


class AmountSeen(_Frozen):
    """One amount a report gave for a deal."""

    amount_usd: float | None = None
    amount: float | None = None
    currency: str | None = None


class EventRecord(_Frozen):
    """The state of one event inside an EventBook (what Event shows, plus bookkeeping)."""

    event_id: str
    key: str = Field(default="", description="event key; empty in books written before v0.2")
    kind: EventKind
    background_only: bool
    version: int = 1
    parties: list[str]
    investor: str | None = None
    target: str | None = None
    co_investors: list[str] = Field(default_factory=list)
    company: str | None = None
    amount_usd: float | None = None
    amount: float | None = None
    currency: str | None = None
    amounts_seen: list[AmountSeen] = Field(default_factory=list)
    headcount: int | None = None
    percent: float | None = None
    headcounts_seen: list[int] = Field(default_factory=list)
    stage: Stage | None = None
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    report_count: int = Field(default=1, description="articles counted, beyond the bound too")
    report_ids: list[str] = Field(
        description="'<article id>#<ordinal>' of the reports folded in, oldest first (bounded)"
    )
    sources: list[str]
    languages: list[str]
    evidence: str
    title: str
    url: str | None = None
    alerted: list[str] = Field(default_factory=list, description="ledger keys already decided")


def article_ids(rec: EventRecord) -> list[str]:
    """The distinct articles of a record's reports, oldest first."""
    return list(dict.fromkeys(rid.rpartition("#")[0] for rid in rec.report_ids))


class EventBook(WireModel):
    """Faust table value for one book key (`Report.book_key`): its events, bounded."""

    key: str
    events: list[EventRecord] = Field(default_factory=list)

    def record(self, event_id: str) -> EventRecord | None:
        """The record of `event_id`, or None."""
        for rec in self.events:
            if rec.event_id == event_id:
                return rec
        return None

    def alerted(self, event_id: str) -> set[str]:
        """Ledger keys already decided for `event_id` (pass to `decide`)."""
        rec = self.record(event_id)
        return set(rec.alerted) if rec is not None else set()

    def with_alerted(self, event_id: str, ledger_keys: Iterable[str]) -> EventBook:
        """A copy of the book with `ledger_keys` remembered as decided for `event_id`."""
        keys = list(ledger_keys)
        if not keys:
            return self
        events = []
        for rec in self.events:
            if rec.event_id == event_id:
                merged = [*rec.alerted, *(k for k in keys if k not in rec.alerted)]
                rec = rec.model_copy(update={"alerted": merged[-MAX_ALERTED:]})
            events.append(rec)
        return self.model_copy(update={"events": events})


class _CachedBook(NamedTuple):
    raw: bytes
    book: EventBook
    #: id(record) -> (record, its JSON), for records of the book encoded here
    fragments: dict[int, tuple[EventRecord, bytes]]


class BookCache:
    """Decoded event books and the JSON of their records, for the events agent.

    Decoding a key's whole book for every report and encoding it again cost more than
    folding the report in, and a busy key's book holds up to 32 events. The cache keeps
    each decoded book beside the very bytes object stored in the table (any other value,
    such as one recovered from the changelog, is decoded afresh), and the JSON of each
    record object it encoded, so encoding serialises only the records that changed
    (`apply` keeps the untouched record objects). The bytes are the same as
    `EventBook.to_bytes()`. Bounded: least recently used keys are dropped.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[str, _CachedBook] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def decode(self, key: str, raw: bytes) -> EventBook:
        """The book stored as `raw` under `key` (raises DecodeError like `decode`)."""
        hit = self._entries.get(key)
        if hit is not None and hit.raw is raw:
            self._entries.move_to_end(key)
            return hit.book
        book = decode(EventBook, raw)
        self._remember(key, _CachedBook(raw, book, {}))
        return book

    def encode(self, book: EventBook) -> bytes:
        """`book.to_bytes()`, re-serialising only records not encoded here before."""
        hit = self._entries.get(book.key)
        known = hit.fragments if hit is not None else {}
        fragments: dict[int, tuple[EventRecord, bytes]] = {}
        parts: list[bytes] = []
        for rec in book.events:
            cached = known.get(id(rec))
            data = cached[1] if cached is not None and cached[0] is rec else None
            if data is None:
                data = rec.model_dump_json().encode("utf-8")
            fragments[id(rec)] = (rec, data)
            parts.append(data)
        head = book.model_dump_json(exclude={"events"}).encode("utf-8")
        raw = head[:-1] + b',"events":[' + b",".join(parts) + b"]}"
        self._remember(book.key, _CachedBook(raw, book, fragments))
        return raw

    def _remember(self, key: str, entry: _CachedBook) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


# --- keys -----------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s|:/]+")


def canonical(name: str) -> str:
    """The key form of an organisation name: NFKC, case-folded, spaces -> '-'."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    return _SEPARATORS.sub("-", text).strip("-")


def deal_key(investor: str | None, target: str) -> str:
    """Event key of a deal: order-preserving, e.g. 'deal:microsoft|openai';
    'deal:?|openai' when the investor is not named."""
    return f"deal:{canonical(investor) if investor else '?'}|{canonical(target)}"


def deal_book_key(target: str) -> str:
    """Book key of every deal into `target`, e.g. 'deal:*|openai'."""
    return f"deal:*|{canonical(target)}"


def layoff_key(company: str) -> str:
    """Event key of a layoff, e.g. 'layoff:microsoft'."""
    return f"layoff:{canonical(company)}"


def event_id_for(key: str, article_id: str, ordinal: int = 0) -> str:
    """Stable event id: a hash of the key and the report that opened the event."""
    digest = hashlib.sha256(f"{key}\x1f{article_id}\x1f{ordinal}".encode()).hexdigest()
    return digest[:16]


# --- reports --------------------------------------------------------------------------


def report_time(enriched: Enriched) -> datetime:
    """When the article was published, else when it was fetched."""
    return enriched.article.published or enriched.article.fetched


def reports_from(enriched: Enriched) -> list[Report]:
    """One Report per AI deal (with a target) and layoff (with a company) found.

    A deal whose investor no outlet names yet ("X raises $200 million") is reported
    too: a round without a named lead is still news (about one deal in five in the dev
    file), and its book joins it with the reports that do name the lead."""
    article = enriched.article
    analysis = enriched.analysis
    common: dict[str, Any] = {
        "article_id": article.id,
        "source": article.source,
        "language": analysis.language or article.language or "und",
        "time": report_time(enriched),
        "title": article.title,
        "url": article.url,
        "near_duplicate_of": enriched.near_duplicate_of,
        "fetched": article.fetched,
        "published": article.published,
    }
    reports: list[Report] = []
    for deal in analysis.deals:
        if not deal.target:
            continue
        if deal.ai is False:
            continue  # not an AI investment (a perfume brand bought): no event to alert on
        if deal.investor and canonical(deal.investor) == canonical(deal.target):
            continue
        key = deal_key(deal.investor, deal.target)
        reports.append(
            Report(
                key=key,
                kind="deal",
                ordinal=len(reports),
                investor=deal.investor,
                target=deal.target,
                co_investors=list(deal.co_investors),
                amount_usd=deal.amount_usd,
                amount=deal.amount,
                currency=deal.currency,
                stage=deal.stage,
                background=deal.background,
                evidence=deal.evidence.text,
                **common,
            )
        )
    for layoff in analysis.layoffs:
        if not layoff.company:
            continue
        reports.append(
            Report(
                key=layoff_key(layoff.company),
                kind="layoff",
                ordinal=len(reports),
                company=layoff.company,
                headcount=layoff.headcount,
                percent=layoff.percent,
                background=layoff.background,
                evidence=layoff.evidence.text,
                **common,
            )
        )
    return reports


# --- matching -------------------------------------------------------------------------


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def _amount_agrees(report: Report, rec: EventRecord, tolerance: float) -> bool:
    """True unless both sides have comparable amounts and none agrees."""
    if not report.has_amount or not rec.amounts_seen:
        return True
    compared = False
    for seen in rec.amounts_seen:
        if report.amount_usd is not None and seen.amount_usd is not None:
            compared = True
            if _close(report.amount_usd, seen.amount_usd, tolerance):
                return True
        elif (
            report.amount is not None
            and seen.amount is not None
            and report.currency is not None
            and report.currency == seen.currency
        ):
            compared = True
            if _close(report.amount, seen.amount, tolerance):
                return True
    return not compared


def _in_window(time: datetime, rec: EventRecord, window: timedelta) -> bool:
    return rec.first_seen - window <= time <= rec.last_seen + window


def _compatible(report: Report, rec: EventRecord, settings: EventSettings) -> bool:
    if rec.kind != report.kind:
        return False
    if rec.background_only and not report.background:
        return False
    if not _in_window(report.time, rec, timedelta(days=settings.window_days)):
        return False
    if report.kind == "deal":
        if not _same_round_backers(report, rec):
            return False
        return _amount_agrees(report, rec, settings.amount_tolerance) or _estimate_vs_final(
            report, rec
        )
    return True


def _same_round_backers(report: Report, rec: EventRecord) -> bool:
    """Whether the report's investor may be the event's: the same name, one side names
    none, or one side's lead is among the other's backers (outlets that call a co-lead
    or a participant the lead describe the same round)."""
    if report.investor is None or rec.investor is None:
        return True
    lead = canonical(report.investor)
    if lead == canonical(rec.investor) or lead in {canonical(p) for p in rec.parties}:
        return True
    return canonical(rec.investor) in {canonical(c) for c in report.co_investors}


def _estimate_vs_final(report: Report, rec: EventRecord) -> bool:
    """True when one side is at talks and the other announced or completed.

    Figures reported during talks are estimates ("about $10 billion"); the
    announcement fixes the real one, so the amount need not agree across that step.
    """
    if report.background:
        return False
    stages = {report.stage, rec.stage}
    return "talks" in stages and bool(stages & {"announced", "completed"})


def _behind(report: Report, rec: EventRecord) -> bool:
    """True when the report is at an earlier stage than the event (a stale report)."""
    if report.stage is None or rec.stage is None or "denied" in (report.stage, rec.stage):
        return False
    return _STAGE_RANK[report.stage] < _STAGE_RANK[rec.stage]


def find_match(book: EventBook, report: Report, settings: EventSettings) -> EventRecord | None:
    """The event `report` belongs to: the one it was already folded into (a redelivery),
    else the compatible event seen most recently, one naming the report's investor
    first; None when it opens a new event."""
    for rec in book.events:
        if report.report_id in rec.report_ids:
            return rec
    candidates = [rec for rec in book.events if _compatible(report, rec, settings)]
    if not candidates:
        return None
    named = canonical(report.investor) if report.investor else None
    return max(
        candidates,
        key=lambda rec: (
            named is not None and rec.investor is not None and canonical(rec.investor) == named,
            rec.last_seen,
        ),
    )


# --- apply ----------------------------------------------------------------------------


def _parties(report: Report) -> list[str]:
    if report.kind == "layoff":
        return [report.company] if report.company else []
    names = [n for n in (report.investor, report.target, *report.co_investors) if n]
    out: list[str] = []
    for name in names:
        if canonical(name) not in {canonical(p) for p in out}:
            out.append(name)
    return out


def _open(report: Report) -> EventRecord:
    amounts = (
        [AmountSeen(amount_usd=report.amount_usd, amount=report.amount, currency=report.currency)]
        if report.has_amount
        else []
    )
    return EventRecord(
        event_id=event_id_for(report.key, report.article_id, report.ordinal),
        key=report.key,
        kind=report.kind,
        background_only=report.background,
        parties=_parties(report),
        investor=report.investor,
        target=report.target,
        co_investors=list(report.co_investors),
        company=report.company,
        amount_usd=report.amount_usd,
        amount=report.amount,
        currency=report.currency,
        amounts_seen=amounts,
        headcount=report.headcount,
        percent=report.percent,
        headcounts_seen=[report.headcount] if report.headcount is not None else [],
        stage=report.stage,
        first_seen=report.time,
        last_seen=report.time,
        report_ids=[report.report_id],
        sources=[report.source],
        languages=[report.language],
        evidence=report.evidence,
        title=report.title,
        url=report.url,
    )


def _stage_moved(old: Stage | None, new: Stage | None) -> bool:
    if new is None or new == old:
        return False
    if new == "denied":
        return True
    return old is not None and old != "denied" and _STAGE_RANK[new] > _STAGE_RANK[old]


def _merge(rec: EventRecord, report: Report, tolerance: float) -> tuple[EventRecord, list[Change]]:
    """Fold a new report into a record; return the record and what changed."""
    update: dict[str, object] = {}
    changed: list[Change] = []
    current = not report.background  # past mentions never change amounts, sizes or stage

    if current and report.has_amount:
        seen = AmountSeen(
            amount_usd=report.amount_usd, amount=report.amount, currency=report.currency
        )
        if seen not in rec.amounts_seen:
            update["amounts_seen"] = [*rec.amounts_seen, seen][-MAX_AMOUNTS:]
        first = rec.amount_usd is None and rec.amount is None
        same_currency = (
            report.amount is not None
            and rec.amount is not None
            and report.currency is not None
            and report.currency == rec.currency
        )
        if same_currency:
            revised = not _close(report.amount, rec.amount, 1e-9)  # type: ignore[arg-type]
        else:  # across currencies only a difference beyond the tolerance is real
            revised = (
                report.amount_usd is not None
                and rec.amount_usd is not None
                and not _close(report.amount_usd, rec.amount_usd, tolerance)
            )
        if first or (revised and not _behind(report, rec)):
            update |= {
                "amount_usd": report.amount_usd,
                "amount": report.amount,
                "currency": report.currency,
            }
            changed.append("amount")

    if current and report.kind == "layoff":
        if report.headcount is not None and report.headcount != rec.headcount:
            update["headcount"] = report.headcount
            if report.headcount not in rec.headcounts_seen:
                update["headcounts_seen"] = [*rec.headcounts_seen, report.headcount][-MAX_AMOUNTS:]
            changed.append("headcount")
            if report.percent is not None:
                update["percent"] = report.percent
        elif report.percent is not None and report.percent != rec.percent:
            update["percent"] = report.percent
            if rec.headcount is None:
                changed.append("headcount")

    if current and report.stage is not None:
        if _stage_moved(rec.stage, report.stage):
            update["stage"] = report.stage
            changed.append("stage")
        elif rec.stage is None:
            update["stage"] = report.stage  # first stage cue: recorded, not a move

    if report.source not in rec.sources and len(rec.sources) < MAX_SOURCES:
        update["sources"] = [*rec.sources, report.source]
        changed.append("sources")
    if report.language not in rec.languages:
        update["languages"] = [*rec.languages, report.language]
        changed.append("languages")

    parties = list(rec.parties)
    if current and report.kind == "deal" and report.investor and rec.investor is None:
        # The first outlet to name the lead of a round opened without one. The event
        # keeps its key and id (its alerts' ledger keys stay valid).
        lead = canonical(report.investor)
        update["investor"] = report.investor
        update["co_investors"] = [n for n in rec.co_investors if canonical(n) != lead]
        parties = [report.investor, *(p for p in parties if canonical(p) != lead)]
        update["parties"] = parties
        changed.append("investor")

    if current and report.kind == "deal":
        known = {canonical(p) for p in parties}
        # Backers this report names that the event lacks, its own lead included when the
        # event has another ("Bluefin leads" where the event says "Northwind leads").
        backers = [report.investor] if report.investor else []
        extra: list[str] = []
        for name in [*backers, *report.co_investors]:
            if canonical(name) not in known:
                known.add(canonical(name))
                extra.append(name)
        if extra:
            co_investors = update.get("co_investors", rec.co_investors)
            update["co_investors"] = [*co_investors, *extra]  # type: ignore[misc]
            update["parties"] = [*parties, *extra]

    update["report_ids"] = [*rec.report_ids, report.report_id][-MAX_REPORT_IDS:]
    if report.article_id not in article_ids(rec):  # one article counts once, whatever it says
        update["report_count"] = rec.report_count + 1
    update["first_seen"] = min(rec.first_seen, report.time)
    update["last_seen"] = max(rec.last_seen, report.time)
    if changed:
        update["version"] = rec.version + 1
        if any(c in ("investor", "amount", "headcount", "stage") for c in changed):
            update["evidence"] = report.evidence
    return rec.model_copy(update=update), changed


def to_event(
    key: str,
    rec: EventRecord,
    status: EventStatus,
    changed: list[Change] | None = None,
    *,
    repeat: bool = False,
) -> Event:
    """The wire Event showing one state of a record (`key`: the book's, used for records
    written before records kept their own)."""
    return Event(
        event_id=rec.event_id,
        key=rec.key or key,
        kind=rec.kind,
        status=status,
        version=rec.version,
        repeat=repeat,
        changed=list(changed or []),
        parties=list(rec.parties),
        investor=rec.investor,
        target=rec.target,
        co_investors=list(rec.co_investors),
        company=rec.company,
        amount_usd=rec.amount_usd,
        amount=rec.amount,
        currency=rec.currency,
        headcount=rec.headcount,
        percent=rec.percent,
        stage=rec.stage,
        first_seen=rec.first_seen,
        last_seen=rec.last_seen,
        article_ids=article_ids(rec),
        report_count=rec.report_count,
        sources=list(rec.sources),
        languages=list(rec.languages),
        evidence=rec.evidence,
        title=rec.title,
        url=rec.url,
    )


def apply(
    book: EventBook | None, report: Report, settings: EventSettings
) -> tuple[EventBook, Event]:
    """Fold one report into its book (`report.book_key`); return the new book and the
    event state.

    Pure and idempotent: applying a report whose article the matched event already
    counts returns an equal book and an Event with `repeat=True` and `changed=[]`.
    """
    if book is None:
        book = EventBook(key=report.book_key)
    elif book.key != report.book_key:
        raise ValueError(f"events: report book {report.book_key!r} applied to book {book.key!r}")

    rec = find_match(book, report, settings)
    if rec is None:
        new = _open(report)
        events = [*book.events, new]
        if len(events) > MAX_EVENTS_PER_KEY:
            oldest = min(events[:-1], key=lambda r: r.last_seen)
            events = [r for r in events if r is not oldest]
        status: EventStatus = "background" if new.background_only else "new"
        return book.model_copy(update={"events": events}), to_event(book.key, new, status)

    status = "background" if rec.background_only else "update"
    if report.report_id in rec.report_ids:
        return book, to_event(book.key, rec, status, repeat=True)
    merged, changed = _merge(rec, report, settings.amount_tolerance)
    events = [merged if r.event_id == rec.event_id else r for r in book.events]
    return book.model_copy(update={"events": events}), to_event(book.key, merged, status, changed)
