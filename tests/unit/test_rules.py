"""Deciding alerts from rules: filters, new/update, min_sources, idempotent ledger keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsradar import testing
from newsradar.alerts import apply_and_decide, decide, ledger_key, matches
from newsradar.config import EventSettings, RuleSettings
from newsradar.events import EventBook, Report, deal_key, layoff_key
from newsradar.models import Alert, Event
from newsradar.testing import deal_event

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2024, 3, 1, 9, 0, 5, tzinfo=UTC)
SETTINGS = EventSettings()


def rule(name: str = "r", kind: str = "deal", **kw: Any) -> RuleSettings:
    """A rule with one log channel."""
    return RuleSettings(name=name, kind=kind, channels=["log"], **kw)  # type: ignore[arg-type]


def event(**kw: Any) -> Event:
    """A new deal event Microsoft -> OpenAI, $10bn, one English source."""
    return deal_event(**{"first_seen": T0, "last_seen": T0, "amount": None, "currency": None, **kw})


def layoff_event(**kw: Any) -> Event:
    """A new layoff event at Microsoft."""
    return testing.layoff_event(
        **{
            "first_seen": T0,
            "last_seen": T0,
            "evidence": "Microsoft invests $10 billion in OpenAI",
            **kw,
        }
    )


# --- matches --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, True),
        ({"kind": "layoff"}, False),
        ({"parties_all": ["microsoft", "OPENAI"]}, True),
        ({"parties_all": ["Microsoft", "Google"]}, False),
        ({"parties_any": ["Google", "openai"]}, True),
        ({"parties_any": ["Google"]}, False),
        ({"languages": ["fr", "EN"]}, True),
        ({"languages": ["de"]}, False),
        ({"min_amount_usd": 1e8}, True),
        ({"min_amount_usd": 2e10}, False),
        ({"min_sources": 1}, True),
        ({"min_sources": 2}, False),
        ({"min_headcount": 10}, False),
    ],
)
def test_rule_filters_on_a_deal(settings: dict[str, Any], expected: bool) -> None:
    """Each filter passes or fails on a $10bn Microsoft -> OpenAI deal as documented."""
    assert matches(rule(**settings), event()) is expected


def test_min_amount_fails_when_the_amount_is_unknown() -> None:
    """A deal with no known USD amount does not pass a minimum amount."""
    assert not matches(rule(min_amount_usd=1), event(amount_usd=None))


@pytest.mark.parametrize(
    ("headcount", "percent", "expected"),
    [(10000, None, True), (999, None, False), (None, 10.0, False), (1000, 3.0, True)],
)
def test_min_headcount_needs_a_headcount(
    headcount: int | None, percent: float | None, expected: bool
) -> None:
    """A layoff known only as a percentage does not pass min_headcount."""
    ev = layoff_event(headcount=headcount, percent=percent)
    assert matches(rule(kind="layoff", min_headcount=1000), ev) is expected


def test_parties_match_canonical_forms() -> None:
    """Rule names match the event's parties whatever their spacing and case."""
    ev = event(parties=["Andreessen Horowitz", "Mistral AI"])
    assert matches(rule(parties_all=["mistral  ai", "ANDREESSEN horowitz"]), ev)


# --- decide ---------------------------------------------------------------------------


def test_new_event_gives_one_alert_per_matching_rule() -> None:
    """A new event alerts once per matching rule with the base ledger key."""
    rules = [rule("pair", parties_all=["Microsoft", "OpenAI"]), rule("big", min_amount_usd=1e11)]
    [alert] = decide(event(), rules, set(), now=NOW)
    assert alert.rule == "pair"
    assert alert.ledger_key == "pair:deal:microsoft|openai:e1"
    assert alert.ledger_key == ledger_key("pair", event())
    assert alert.reason == "new"
    assert alert.channels == ["log"]
    assert alert.decided_at == NOW
    assert alert.event == event()


def test_already_alerted_key_is_not_alerted_again() -> None:
    """The same event state with its ledger key recorded yields nothing."""
    rules = [rule("pair")]
    assert decide(event(), rules, {"pair:deal:microsoft|openai:e1"}) == []
    assert decide(event(), rules, lambda key: key.startswith("pair:")) == []


@pytest.mark.parametrize(
    "state",
    [
        {"status": "background"},
        {"status": "update", "changed": []},
        {"status": "update", "changed": ["sources"], "repeat": True},
    ],
)
def test_states_without_news_never_alert(state: dict[str, Any]) -> None:
    """Background, empty updates and repeats are never alerted, even for fresh rules."""
    assert decide(event(**state), [rule("any", on_update=True)], set()) == []


def test_update_realerts_only_where_on_update_is_set() -> None:
    """A changed amount re-alerts (with a versioned key) only rules with on_update."""
    rules = [rule("quiet"), rule("loud", on_update=True)]
    done = {ledger_key("quiet", event()), ledger_key("loud", event())}
    updated = event(status="update", version=2, changed=["amount"], amount_usd=1.1e10)
    [alert] = decide(updated, rules, done)
    assert alert.rule == "loud"
    assert alert.ledger_key == "loud:deal:microsoft|openai:e1:v2"
    assert alert.reason == "update:amount"
    assert decide(updated, rules, done | {alert.ledger_key}) == []


def test_on_update_ignores_new_sources_only() -> None:
    """on_update re-alerts on amount, headcount or stage, not on one more outlet."""
    rules = [rule("loud", on_update=True)]
    done = {ledger_key("loud", event())}
    assert decide(event(status="update", version=2, changed=["sources"]), rules, done) == []
    moved = event(status="update", version=3, changed=["stage", "sources"], stage="completed")
    [alert] = decide(moved, rules, done)
    assert alert.reason == "update:stage"


def test_on_update_realerts_when_the_lead_is_named() -> None:
    """A round first reported without its investor re-alerts on_update rules once the
    lead is named; a rule matching on that investor fires for the first time then."""
    rules = [rule("loud", on_update=True), rule("pair", parties_all=["Microsoft", "OpenAI"])]
    unnamed = event(key="deal:?|openai", investor=None, parties=["OpenAI"])
    done = {a.ledger_key for a in decide(unnamed, rules, set())}
    assert done == {"loud:deal:?|openai:e1"}
    named = event(key="deal:?|openai", status="update", version=2, changed=["investor"])
    alerts = decide(named, rules, done)
    assert {(a.rule, a.ledger_key, a.reason) for a in alerts} == {
        ("loud", "loud:deal:?|openai:e1:v2", "update:investor"),
        ("pair", "pair:deal:?|openai:e1", "update:investor"),
    }


def test_min_sources_fires_on_the_first_state_reaching_it() -> None:
    """With min_sources 3 the alert waits, fires once on the update that reaches 3."""
    rules = [rule("corroborated", min_sources=3)]
    assert decide(event(), rules, set()) == []
    two = event(status="update", version=2, changed=["sources"], sources=["A", "B"])
    assert decide(two, rules, set()) == []
    three = event(status="update", version=3, changed=["sources"], sources=["A", "B", "C"])
    [alert] = decide(three, rules, set())
    assert alert.ledger_key == "corroborated:deal:microsoft|openai:e1"
    assert alert.reason == "update:sources"
    four = event(status="update", version=4, changed=["sources"], sources=["A", "B", "C", "D"])
    assert decide(four, rules, {alert.ledger_key}) == []


def test_threshold_reached_by_a_later_amount_fires_then() -> None:
    """A deal first reported without an amount alerts min_amount rules when one arrives."""
    rules = [rule("big", min_amount_usd=1e8)]
    assert decide(event(amount_usd=None), rules, set()) == []
    [alert] = decide(event(status="update", version=2, changed=["amount"]), rules, set())
    assert alert.reason == "update:amount"
    assert alert.ledger_key == "big:deal:microsoft|openai:e1"


# --- apply_and_decide over a stream ---------------------------------------------------


def report(n: int, *, source: str, days: float = 0, **kw: Any) -> Report:
    """A deal report Northwind -> Acme AI, article n."""
    fields: dict[str, Any] = {
        "key": deal_key("Northwind", "Acme AI"),
        "kind": "deal",
        "article_id": f"a{n}",
        "source": source,
        "language": "en",
        "time": T0 + timedelta(days=days),
        "title": f"t{n}",
        "investor": "Northwind",
        "target": "Acme AI",
        "amount_usd": 2e9,
        "amount": 2e9,
        "currency": "USD",
        "evidence": "e",
    }
    fields.update(kw)
    return Report(**fields)


def stream(
    reports: list[Report], rules: list[RuleSettings], book: EventBook | None = None
) -> tuple[EventBook | None, list[Alert]]:
    """Run apply_and_decide over reports; return the book and all alerts."""
    alerts: list[Alert] = []
    for r in reports:
        book, _, new = apply_and_decide(book, r, SETTINGS, rules, now=NOW)
        alerts.extend(new)
    return book, alerts


def test_stream_alerts_once_and_replay_adds_nothing() -> None:
    """Ten outlets give one alert; replaying all of them again gives none."""
    rules = [rule("pair", parties_all=["Northwind", "Acme AI"]), rule("loud", on_update=True)]
    reports = [report(n, source=f"S{n}", days=n / 10) for n in range(10)]
    book, alerts = stream(reports, rules)
    assert sorted(a.rule for a in alerts) == ["loud", "pair"]
    assert {a.reason for a in alerts} == {"new"}
    again, more = stream(reports, rules, book)
    assert more == []
    assert again == book
    shuffled, more = stream(list(reversed(reports)), rules, book)
    assert more == []
    assert shuffled == book


def test_stream_amount_revision_realerts_on_update_rules_only() -> None:
    """A revised amount later gives exactly one versioned alert, for the on_update rule."""
    rules = [rule("pair", parties_all=["Northwind", "Acme AI"]), rule("loud", on_update=True)]
    reports = [report(n, source=f"S{n}") for n in range(3)]
    reports.append(report(9, source="S9", days=5, amount_usd=2.15e9, amount=2.15e9))
    book, alerts = stream(reports, rules)
    assert [(a.rule, a.reason) for a in alerts] == [
        ("pair", "new"),
        ("loud", "new"),
        ("loud", "update:amount"),
    ]
    assert alerts[-1].ledger_key.endswith(":v4")  # versions 2 and 3 were new sources
    assert book is not None
    assert book.alerted(alerts[0].event.event_id) == {a.ledger_key for a in alerts}


def test_layoff_stream_uses_layoff_rules() -> None:
    """A layoff report alerts layoff rules and not deal rules."""
    layoff = Report(
        key=layoff_key("Globex"),
        kind="layoff",
        article_id="l1",
        source="S",
        language="de",
        time=T0,
        title="t",
        company="Globex",
        headcount=5000,
        evidence="5.000 Stellen",
    )
    rules = [rule("deals"), rule("cuts", kind="layoff", min_headcount=1000)]
    _, _, alerts = apply_and_decide(None, layoff, SETTINGS, rules, now=NOW)
    assert [a.rule for a in alerts] == ["cuts"]
    assert alerts[0].event.headcount == 5000


_report_fields = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["S1", "S2", "S3", "S4"]),
        "days": st.integers(min_value=0, max_value=120),
        "amount_usd": st.sampled_from([None, 5e8, 2e9, 2.1e9]),
        "stage": st.sampled_from([None, "talks", "announced", "completed", "denied"]),
        "background": st.booleans(),
    }
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_report_fields, min_size=1, max_size=12))
def test_any_stream_never_repeats_a_ledger_key_and_replays_silently(
    fields: list[dict[str, Any]],
) -> None:
    """For any report stream: ledger keys are unique; replaying it, in any order, does nothing."""
    rules = [
        rule("pair", parties_all=["Northwind", "Acme AI"]),
        rule("loud", on_update=True),
        rule("big", min_amount_usd=1e9, min_sources=2, on_update=True),
    ]
    reports = [
        report(n, amount=f["amount_usd"], currency="USD" if f["amount_usd"] else None, **f)
        for n, f in enumerate(fields)
    ]
    book, alerts = stream(reports, rules)
    keys = [a.ledger_key for a in alerts]
    assert len(keys) == len(set(keys))
    assert all(a.event.status != "background" for a in alerts)
    again, more = stream(reports, rules, book)
    assert more == []
    assert again == book
    shuffled, more = stream(list(reversed(reports)), rules, book)
    assert more == []
    assert shuffled == book
