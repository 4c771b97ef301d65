"""Grouping reports into events: keys, matching, statuses, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsradar.config import EventSettings
from newsradar.errors import DecodeError
from newsradar.events import (
    MAX_EVENTS_PER_KEY,
    MAX_REPORT_IDS,
    BookCache,
    EventBook,
    Report,
    apply,
    canonical,
    deal_key,
    event_id_for,
    layoff_key,
    reports_from,
)
from newsradar.models import Article, Enriched, decode
from newsradar.nlp.schema import Analysis, Deal, Evidence, Layoff

SETTINGS = EventSettings()
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def deal(n: int = 1, *, source: str = "Wire A", days: float = 0, **kw: Any) -> Report:
    """A deal report of Northwind -> Acme AI (article n) with sensible defaults."""
    fields: dict[str, Any] = {
        "key": deal_key("Northwind", "Acme AI"),
        "kind": "deal",
        "article_id": f"a{n}",
        "source": source,
        "language": "en",
        "time": T0 + timedelta(days=days),
        "title": f"Northwind backs Acme AI ({n})",
        "url": f"https://news.example/{n}",
        "investor": "Northwind",
        "target": "Acme AI",
        "amount_usd": 2e9,
        "amount": 2e9,
        "currency": "USD",
        "stage": "announced",
        "evidence": "Northwind invests $2 billion in Acme AI",
    }
    fields.update(kw)
    return Report(**fields)


def layoff(n: int = 1, *, source: str = "Wire A", days: float = 0, **kw: Any) -> Report:
    """A layoff report at Globex (article n)."""
    fields: dict[str, Any] = {
        "key": layoff_key("Globex"),
        "kind": "layoff",
        "article_id": f"l{n}",
        "source": source,
        "language": "en",
        "time": T0 + timedelta(days=days),
        "title": f"Globex cuts jobs ({n})",
        "company": "Globex",
        "headcount": 1200,
        "evidence": "Globex to cut 1,200 jobs",
    }
    fields.update(kw)
    return Report(**fields)


def run(*reports: Report, book: EventBook | None = None) -> tuple[EventBook, list[Any]]:
    """Apply reports in order; return the final book and every event state."""
    events = []
    for report in reports:
        book, event = apply(book, report, SETTINGS)
        events.append(event)
    assert book is not None
    return book, events


# --- keys and reports -----------------------------------------------------------------


def test_deal_key_is_canonical_and_keeps_investor_first() -> None:
    """The deal key lower-cases names, keeps investor before target and joins spaces."""
    assert deal_key("Microsoft", "OpenAI") == "deal:microsoft|openai"
    assert deal_key("OpenAI", "Microsoft") == "deal:openai|microsoft"
    assert deal_key(" Mistral  AI ", "Scale|AI") == "deal:mistral-ai|scale-ai"
    assert layoff_key("Microsoft") == "layoff:microsoft"


def test_canonical_folds_case_and_compatibility_forms() -> None:
    """Case and Unicode compatibility forms do not split one company into two keys."""
    assert canonical("ＯｐｅｎＡＩ") == canonical("openai") == "openai"
    assert canonical("Straße") == canonical("STRASSE")


def _enriched(analysis: Analysis, **article: Any) -> Enriched:
    fields: dict[str, Any] = {
        "id": "art-1",
        "feed_id": "f1",
        "feed_url": "https://news.example/feed",
        "source": "Example News",
        "title": "t",
        "fetched": T0,
    }
    fields.update(article)
    return Enriched(article=Article(**fields), analysis=analysis, fingerprint="0" * 16)


def _evidence(text: str = "x") -> Evidence:
    return Evidence(text=text, start=0, end=len(text))


def test_reports_from_keeps_deals_with_a_target_and_layoffs_with_a_company() -> None:
    """A deal needs a target (the investor may be unnamed), a layoff a company."""
    analysis = Analysis(
        text="t",
        language="fr",
        language_score=1.0,
        deals=[
            Deal(investor="Microsoft", target="OpenAI", amount_usd=1e10, evidence=_evidence()),
            Deal(investor=None, target="OpenAI", evidence=_evidence()),
            Deal(investor="Microsoft", target=None, evidence=_evidence()),
            Deal(investor="Microsoft", target="microsoft", evidence=_evidence()),
        ],
        layoffs=[
            Layoff(company="Microsoft", headcount=10000, evidence=_evidence("10.000")),
            Layoff(company=None, headcount=500, evidence=_evidence()),
        ],
    )
    reports = reports_from(_enriched(analysis))
    assert [(r.key, r.book_key, r.kind, r.ordinal) for r in reports] == [
        ("deal:microsoft|openai", "deal:*|openai", "deal", 0),
        ("deal:?|openai", "deal:*|openai", "deal", 1),
        ("layoff:microsoft", "layoff:microsoft", "layoff", 2),
    ]
    assert reports[0].language == "fr"
    assert reports[0].source == "Example News"
    assert reports[1].investor is None
    assert reports[2].headcount == 10000
    assert reports[2].evidence == "10.000"


def test_reports_from_leaves_out_deals_that_are_not_ai_investments() -> None:
    """A deal the analysis judged not about an AI company opens no event; one it did not
    judge (built by hand, `ai` unset) still does."""
    analysis = Analysis(
        text="t",
        language="en",
        language_score=1.0,
        deals=[
            Deal(
                investor="L'Oréal", target="Aesop", amount_usd=2.5e9, ai=False, evidence=_evidence()
            ),
            Deal(investor="Microsoft", target="OpenAI", ai=True, evidence=_evidence()),
            Deal(investor="Nvidia", target="xAI", evidence=_evidence()),
        ],
    )
    assert [r.key for r in reports_from(_enriched(analysis))] == [
        "deal:microsoft|openai",
        "deal:nvidia|xai",
    ]


def test_report_time_is_published_else_fetched() -> None:
    """Reports are placed in time by publication, falling back to the fetch time."""
    analysis = Analysis(
        text="t",
        language="en",
        language_score=1.0,
        layoffs=[Layoff(company="Globex", evidence=_evidence())],
    )
    published = datetime(2023, 1, 18, tzinfo=UTC)
    assert reports_from(_enriched(analysis, published=published))[0].time == published
    assert reports_from(_enriched(analysis))[0].time == T0


# --- new, update, repeat --------------------------------------------------------------


def test_first_report_opens_a_new_event_with_a_stable_id() -> None:
    """The first report gives status new, version 1 and an id derived from key + article."""
    book, [event] = run(deal(1))
    assert event.status == "new"
    assert event.version == 1
    assert event.changed == []
    assert event.event_id == event_id_for("deal:northwind|acme-ai", "a1", 0)
    assert event.title == "Northwind backs Acme AI (1)"
    assert event.url == "https://news.example/1"
    assert event.parties == ["Northwind", "Acme AI"]
    assert (event.investor, event.target, event.amount_usd) == ("Northwind", "Acme AI", 2e9)
    assert len(book.events) == 1


def test_more_sources_make_updates_of_the_same_event() -> None:
    """Later reports join the event; a new outlet or language is listed in `changed`."""
    _, events = run(
        deal(1),
        deal(2, source="Wire B", days=1),
        deal(3, source="Wire B", days=2),
        deal(4, source="Journal C", days=3, language="fr"),
    )
    assert [e.status for e in events] == ["new", "update", "update", "update"]
    assert [e.changed for e in events] == [[], ["sources"], [], ["sources", "languages"]]
    last = events[-1]
    assert len({e.event_id for e in events}) == 1
    assert last.sources == ["Wire A", "Wire B", "Journal C"]
    assert last.languages == ["en", "fr"]
    assert last.article_ids == ["a1", "a2", "a3", "a4"]
    assert last.report_count == 4
    assert last.first_seen == T0
    assert last.last_seen == T0 + timedelta(days=3)
    assert last.title == "Northwind backs Acme AI (1)"


def test_repeated_article_changes_nothing() -> None:
    """Delivering the same article twice gives an equal book and a repeat with no change."""
    book, _ = run(deal(1), deal(2, source="Wire B"))
    again, event = apply(book, deal(2, source="Wire B"), SETTINGS)
    assert again == book
    assert event.repeat is True
    assert event.status == "update"
    assert event.changed == []
    assert event.report_count == 2


def test_repeat_of_the_opening_article_is_recognised_after_later_changes() -> None:
    """A replayed first article still matches its event after the amount was revised."""
    book, _ = run(deal(1, amount_usd=None, amount=None), deal(2, days=1))
    again, event = apply(book, deal(1, amount_usd=None, amount=None), SETTINGS)
    assert again == book
    assert event.repeat is True


def test_book_survives_a_json_round_trip() -> None:
    """The book, as a Faust table value, decodes back to an equal model."""
    book, _ = run(deal(1, stage="talks"), deal(2, source="Wire B", stage="announced"))
    book = book.with_alerted(book.events[0].event_id, ["rule:key:id"])
    assert decode(EventBook, book.to_bytes()) == book


def test_report_survives_a_json_round_trip() -> None:
    """Reports can be repartitioned by key through a topic: they decode back unchanged."""
    report = deal(1, co_investors=["Initech"], near_duplicate_of="a0")
    assert decode(Report, report.to_bytes()) == report


def test_report_for_another_key_is_refused() -> None:
    """Applying a report to the book of another key is a programming error, said loudly."""
    book, _ = run(deal(1))
    with pytest.raises(ValueError, match=r"layoff:globex.*deal:\*\|acme-ai"):
        apply(book, layoff(1), SETTINGS)


# --- rounds without a named investor ----------------------------------------------------


def unnamed(n: int = 1, **kw: Any) -> Report:
    """A report of the Acme AI round that names no investor ("Acme AI raises $2 billion")."""
    fields: dict[str, Any] = {"key": deal_key(None, "Acme AI"), "investor": None}
    fields.update(kw)
    return deal(n, **fields)


def test_round_without_named_investor_opens_an_event() -> None:
    """'Acme AI raises $2 billion' is news: a new event keyed deal:?|acme-ai."""
    book, (event,) = run(unnamed(1))
    assert (event.status, event.key, event.investor, event.target) == (
        "new",
        "deal:?|acme-ai",
        None,
        "Acme AI",
    )
    assert book.key == "deal:*|acme-ai"
    assert event.parties == ["Acme AI"]


def test_first_report_naming_the_lead_updates_the_unnamed_round() -> None:
    """The lead named later joins the same event (same id and key), changed 'investor'."""
    book, (first,) = run(unnamed(1, source="Wire A"))
    book, later = apply(
        book, deal(2, source="Wire B", co_investors=["Northwind", "Bluefin"]), SETTINGS
    )
    assert later.event_id == first.event_id
    assert later.key == "deal:?|acme-ai"
    assert later.status == "update"
    assert "investor" in later.changed
    assert later.investor == "Northwind"
    assert later.parties == ["Northwind", "Acme AI", "Bluefin"]
    assert later.co_investors == ["Bluefin"]
    assert len(book.events) == 1


def test_outlets_without_the_lead_join_the_named_round() -> None:
    """Reports naming no investor join an event that has one: no second event, no change."""
    book, (first,) = run(deal(1, source="Wire A"))
    book, again = apply(book, unnamed(2, source="Wire A"), SETTINGS)
    assert again.event_id == first.event_id
    assert again.changed == []
    assert again.investor == "Northwind"
    assert len(book.events) == 1


def test_two_named_leads_of_one_target_are_two_events() -> None:
    """Different named investors into one target stay apart; an unnamed report joins the
    event whose amount agrees."""
    book, (a,) = run(deal(1))
    other = deal(
        2, key=deal_key("Kestrel", "Acme AI"), investor="Kestrel", amount_usd=5e8, amount=5e8
    )
    book, b = apply(book, other, SETTINGS)
    assert b.status == "new" and b.event_id != a.event_id
    assert b.key == "deal:kestrel|acme-ai"
    book, c = apply(book, unnamed(3, amount_usd=5.1e8, amount=5.1e8), SETTINGS)
    assert c.event_id == b.event_id
    assert len(book.events) == 2


def test_named_report_prefers_its_own_event_over_an_unnamed_one() -> None:
    """A report compatible with its investor's event and with a more recent unnamed
    round joins its investor's event."""
    book, (named,) = run(deal(1, days=0))
    book, unnamed_round = apply(book, unnamed(2, days=1, amount_usd=5e8, amount=5e8), SETTINGS)
    assert unnamed_round.event_id != named.event_id  # amounts disagree: another round
    book, third = apply(book, deal(3, days=2, amount_usd=None, amount=None), SETTINGS)
    assert third.event_id == named.event_id


# --- amounts and windows --------------------------------------------------------------


def test_amount_within_tolerance_in_another_currency_is_the_same_deal() -> None:
    """A converted amount within tolerance joins the event without counting as a change."""
    _, events = run(deal(1), deal(2, source="Wire B", amount_usd=1.9e9, amount=1.75e9,
                                  currency="EUR"))  # fmt: skip
    assert events[1].status == "update"
    assert events[1].changed == ["sources"]
    assert events[1].amount_usd == 2e9


def test_revised_amount_in_the_same_currency_is_an_amount_change() -> None:
    """$2.0bn then $2.1bn (within tolerance) is the same deal with a changed amount."""
    _, events = run(deal(1), deal(2, source="Wire B", amount_usd=2.1e9, amount=2.1e9))
    assert events[1].changed == ["amount", "sources"]
    assert events[1].amount_usd == 2.1e9
    assert events[1].version == 2


def test_first_amount_is_an_amount_change() -> None:
    """An event opened without an amount changes when a report gives one."""
    _, events = run(deal(1, amount_usd=None, amount=None, currency=None), deal(2))
    assert events[0].amount_usd is None
    assert events[1].changed == ["amount"]
    assert events[1].amount_usd == 2e9
    assert events[1].evidence == "Northwind invests $2 billion in Acme AI"


def test_report_without_amount_joins_an_event_with_one() -> None:
    """A report that gives no amount agrees with any amount."""
    _, events = run(deal(1), deal(2, amount_usd=None, amount=None, currency=None))
    assert events[1].status == "update"
    assert events[1].amount_usd == 2e9


def test_amount_outside_tolerance_opens_another_event() -> None:
    """A clearly different amount between the same parties is another deal."""
    book, events = run(deal(1), deal(2, source="Wire B", amount_usd=5e8, amount=5e8))
    assert [e.status for e in events] == ["new", "new"]
    assert events[0].event_id != events[1].event_id
    assert len(book.events) == 2


def test_announcement_replaces_the_estimate_from_talks() -> None:
    """'In talks, about $10bn' then 'announces $14.3bn' is one deal whose amount changed."""
    _, events = run(
        deal(1, stage="talks", amount_usd=1e10, amount=1e10),
        deal(2, source="Wire B", stage="announced", amount_usd=1.43e10, amount=1.43e10),
    )
    assert [e.status for e in events] == ["new", "update"]
    assert events[1].changed == ["amount", "stage", "sources"]
    assert events[1].amount_usd == 1.43e10


def test_stale_estimate_after_the_announcement_changes_nothing() -> None:
    """A late 'in talks, about $10bn' report joins the announced deal but keeps its amount."""
    _, events = run(
        deal(1, stage="announced", amount_usd=1.43e10, amount=1.43e10),
        deal(2, source="Wire B", stage="talks", amount_usd=1e10, amount=1e10),
    )
    assert [e.status for e in events] == ["new", "update"]
    assert events[1].changed == ["sources"]
    assert events[1].amount_usd == 1.43e10
    assert events[1].stage == "announced"


def test_same_parties_months_apart_are_two_events() -> None:
    """Outside the window (30 days by default) the same parties make a new event."""
    book, events = run(deal(1), deal(2, days=90))
    assert [e.status for e in events] == ["new", "new"]
    assert len(book.events) == 2


def test_window_is_measured_from_the_last_report() -> None:
    """Steady coverage keeps an event open: the window follows its last report."""
    _, events = run(deal(1), deal(2, days=25), deal(3, days=50))
    assert [e.status for e in events] == ["new", "update", "update"]


def test_window_setting_is_honoured() -> None:
    """A shorter window splits reports that the default would join."""
    short = EventSettings(window_days=3)
    book, first = apply(None, deal(1), short)
    _, second = apply(book, deal(2, days=5), short)
    assert second.status == "new"
    assert second.event_id != first.event_id


def test_late_report_from_before_the_event_extends_first_seen() -> None:
    """Replays need not be in time order: an earlier report moves first_seen back."""
    _, events = run(deal(1, days=10), deal(2, days=2))
    assert events[1].status == "update"
    assert events[1].first_seen == T0 + timedelta(days=2)


# --- stages ---------------------------------------------------------------------------


def test_stage_moving_forward_is_a_change_and_backward_is_not() -> None:
    """talks -> announced is a stage change; a stale 'talks' afterwards is not."""
    _, events = run(
        deal(1, stage="talks"),
        deal(2, stage="announced"),
        deal(3, stage="talks"),
        deal(4, stage="denied"),
    )
    assert [e.changed for e in events] == [[], ["stage"], [], ["stage"]]
    assert [e.stage for e in events] == ["talks", "announced", "announced", "denied"]


def test_first_stage_cue_is_recorded_without_a_change() -> None:
    """An event without a stage takes the first one reported, not counted as a move."""
    _, events = run(deal(1, stage=None), deal(2, stage="announced"))
    assert events[1].changed == []
    assert events[1].stage == "announced"


# --- background -----------------------------------------------------------------------


def test_past_mention_alone_is_a_background_event() -> None:
    """A recalled deal never opens a new-status event."""
    book, [event] = run(deal(1, background=True, amount_usd=1e9, amount=1e9))
    assert event.status == "background"
    assert book.events[0].background_only is True


def test_current_report_never_joins_a_background_event() -> None:
    """A recalled deal is not today's deal: a current report opens its own event."""
    _, events = run(
        deal(1, background=True, amount_usd=None, amount=None, currency=None),
        deal(2, source="Wire B"),
    )
    assert [e.status for e in events] == ["background", "new"]
    assert events[0].event_id != events[1].event_id


def test_background_mention_counts_as_a_source_but_changes_no_figure() -> None:
    """A recap of a current deal adds its outlet, never its (possibly stale) numbers."""
    _, events = run(
        deal(1, stage="talks"),
        deal(2, source="Wire B", background=True, amount_usd=2.1e9, amount=2.1e9,
             stage="completed"),
    )  # fmt: skip
    assert events[1].status == "update"
    assert events[1].changed == ["sources"]
    assert events[1].amount_usd == 2e9
    assert events[1].stage == "talks"


def test_one_article_with_current_and_past_deals_makes_two_events() -> None:
    """'Invests $10bn, after $1bn in 2019': one new event, one background event."""
    book, events = run(
        deal(1, amount_usd=1e10, amount=1e10),
        deal(1, ordinal=1, background=True, amount_usd=1e9, amount=1e9),
    )
    assert [e.status for e in events] == ["new", "background"]
    assert events[0].event_id != events[1].event_id
    replayed, again = run(
        deal(1, amount_usd=1e10, amount=1e10),
        deal(1, ordinal=1, background=True, amount_usd=1e9, amount=1e9),
        book=book,
    )
    assert replayed == book
    assert all(e.repeat for e in again)


def test_second_report_from_one_article_adds_figures_but_not_a_count() -> None:
    """Two mentions of one deal in one article: the amount is taken, the article counted once."""
    _, events = run(
        deal(1, amount_usd=None, amount=None, currency=None),
        deal(1, ordinal=1),
    )
    assert events[1].changed == ["amount"]
    assert events[1].article_ids == ["a1"]
    assert events[1].report_count == 1
    assert events[1].repeat is False


# --- layoffs --------------------------------------------------------------------------


def test_layoff_headcount_change_is_an_update_of_the_same_layoff() -> None:
    """Layoffs match on company and window; a new headcount is a change."""
    _, events = run(layoff(1), layoff(2, source="Wire B", headcount=1500))
    assert events[1].status == "update"
    assert events[1].changed == ["headcount", "sources"]
    assert events[1].headcount == 1500


def test_layoff_percent_counts_only_while_no_headcount_is_known() -> None:
    """A percent is the size while no headcount is known; later it is just recorded."""
    _, events = run(
        layoff(1, headcount=None, percent=5.0),
        layoff(2, headcount=None, percent=6.0),
        layoff(3, headcount=900),
        layoff(4, headcount=None, percent=7.0),
    )
    assert [e.changed for e in events] == [[], ["headcount"], ["headcount"], []]
    assert (events[-1].headcount, events[-1].percent) == (900, 7.0)


def test_book_is_bounded() -> None:
    """A key keeps at most MAX_EVENTS_PER_KEY events, dropping the least recent."""
    reports = [deal(n, days=60 * n) for n in range(MAX_EVENTS_PER_KEY + 3)]
    book, events = run(*reports)
    assert all(e.status == "new" for e in events)
    assert len(book.events) == MAX_EVENTS_PER_KEY
    assert book.record(events[0].event_id) is None
    assert book.record(events[-1].event_id) is not None


def test_article_ids_are_bounded_but_counted() -> None:
    """A story with very many reports keeps the latest ids and the full count."""
    n = MAX_REPORT_IDS + 20
    _, events = run(*(deal(i, source=f"S{i % 7}") for i in range(n)))
    last = events[-1]
    assert last.report_count == n
    assert len(last.article_ids) == MAX_REPORT_IDS
    assert last.article_ids[-1] == f"a{n - 1}"


def test_alerted_keys_are_kept_per_event() -> None:
    """with_alerted remembers ledger keys for one event only, without duplicates."""
    book, events = run(deal(1), deal(2, days=90))
    first, second = events[0].event_id, events[1].event_id
    book = book.with_alerted(first, ["r:k:1"]).with_alerted(first, ["r:k:1", "r:k:1:v2"])
    assert book.alerted(first) == {"r:k:1", "r:k:1:v2"}
    assert book.record(first) is not None
    assert book.record(first).alerted == ["r:k:1", "r:k:1:v2"]  # type: ignore[union-attr]
    assert book.alerted(second) == set()
    assert book.alerted("unknown") == set()


def test_book_cache_encodes_the_same_bytes_as_the_model() -> None:
    """The cache's incremental encoding is byte for byte `EventBook.to_bytes()`, step by step."""
    cache = BookCache()
    book: EventBook | None = None
    reports = [deal(1), deal(2, source="Wire B", days=1), deal(3, days=70), deal(1)]
    for report in reports:
        book, _ = apply(book, report, SETTINGS)
        book = book.with_alerted(book.events[-1].event_id, [f"rule:{report.article_id}"])
        raw = cache.encode(book)
        assert raw == book.to_bytes()
        assert decode(EventBook, raw) == book
    assert book is not None and len(book.events) == 2


def test_book_cache_decodes_only_bytes_it_did_not_write() -> None:
    """The stored bytes object gives the cached book; equal bytes from elsewhere
    (a changelog recovery) are decoded afresh; garbage still raises DecodeError."""
    cache = BookCache()
    book, _ = run(deal(1))
    raw = cache.encode(book)
    assert cache.decode(book.key, raw) is book
    recovered = bytes(bytearray(raw))
    again = cache.decode(book.key, recovered)
    assert again == book and again is not book
    with pytest.raises(DecodeError):
        cache.decode(book.key, b'{"key": 1}')


def test_book_cache_is_bounded() -> None:
    """Least recently used keys are dropped beyond the cache size."""
    cache = BookCache(size=2)
    for company in ("Globex", "Initech", "Umbrella"):
        book, _ = run(layoff(1, key=layoff_key(company), company=company))
        cache.encode(book)
    assert len(cache) == 2


def test_outlets_naming_another_backer_as_lead_describe_the_same_round() -> None:
    """'Northwind leads, with Bluefin' and 'Bluefin leads' of one amount are one event;
    the second lead becomes a co-investor, an unrelated lead a new event."""
    book, (first,) = run(deal(1, co_investors=["Bluefin"]))
    swapped = deal(
        2,
        key=deal_key("Bluefin", "Acme AI"),
        investor="Bluefin",
        co_investors=["Northwind", "Harbor Fund"],
    )
    book, second = apply(book, swapped, SETTINGS)
    assert second.event_id == first.event_id
    assert second.investor == "Northwind"
    assert second.co_investors == ["Bluefin", "Harbor Fund"]
    stranger = deal(3, key=deal_key("Kestrel", "Acme AI"), investor="Kestrel")
    book, third = apply(book, stranger, SETTINGS)
    assert third.event_id != first.event_id
