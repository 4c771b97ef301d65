"""Slack messages: headlines, Block Kit layout, Slack's length limits, mrkdwn escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from newsradar.alerts.slack import (
    ELLIPSIS,
    build_message,
    format_amount,
    format_usd,
    headline,
    is_update,
)
from newsradar.models import Alert, Event
from newsradar.testing import deal_event, layoff_event

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def event(**kw: Any) -> Event:
    """A new deal event Microsoft -> OpenAI, $10bn, three sources."""
    return deal_event(
        **{
            "article_ids": ["a1", "a2", "a3"],
            "report_count": 3,
            "sources": ["Wire A", "Journal B", "Daily C"],
            "evidence": "Microsoft will invest $10 billion in OpenAI.",
            "url": "https://news.example/a1",
            **kw,
        }
    )


def layoff(**kw: Any) -> Event:
    """A new layoff event at Microsoft, 10,000 jobs."""
    return layoff_event(
        **{
            "article_ids": ["a1", "a2", "a3"],
            "report_count": 3,
            "sources": ["Wire A", "Journal B", "Daily C"],
            "url": "https://news.example/a1",
            **kw,
        }
    )


def alert(ev: Event, *, realert: bool = False, reason: str | None = None) -> Alert:
    """An alert of rule `r` on `ev`; `realert` gives the on_update ledger key (:v<version>)."""
    key = f"r:{ev.key}:{ev.event_id}" + (f":v{ev.version}" if realert else "")
    default_reason = "new" if ev.status == "new" else "update:" + ",".join(ev.changed)
    return Alert(
        ledger_key=key,
        rule="r",
        channels=["slack"],
        event=ev,
        reason=reason or default_reason,
        decided_at=T0 + timedelta(minutes=ev.version),
    )


def update(ev: Event, version: int, **kw: Any) -> Event:
    """`ev` as a later update state."""
    return ev.model_copy(update={"status": "update", "version": version, **kw})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e10, "$10.0B"),
        (2.5e6, "$2.5M"),
        (12_000, "$12.0K"),
        (950, "$950"),
        (1.5e12, "$1.5T"),
    ],
)
def test_format_usd(value: float, text: str) -> None:
    """USD amounts are written the headline way, one decimal with a scale letter."""
    assert format_usd(value) == text


def test_format_amount_uses_symbol_or_code() -> None:
    """Known currencies get their symbol, others their ISO code."""
    assert format_amount(9.2e9, "EUR") == "€9.2B"
    assert format_amount(1.5e9, "CHF") == "CHF 1.5B"


@pytest.mark.parametrize(
    ("ev", "realert", "expected"),
    [
        (event(), False, "New deal: Microsoft -> OpenAI, $10.0B"),
        (
            event(amount=9.2e9, currency="EUR"),
            False,
            "New deal: Microsoft -> OpenAI, €9.2B (≈ $10.0B)",
        ),
        (
            event(amount=None, amount_usd=None, currency=None),
            False,
            "New deal: Microsoft -> OpenAI",
        ),
        (event(investor=None, target=None), False, "New deal: Microsoft, OpenAI, $10.0B"),
        (
            event(investor=None, parties=["OpenAI"]),
            False,
            "New deal: OpenAI (investor not named), $10.0B",
        ),
        (layoff(), False, "Layoffs: Microsoft, 10,000 jobs"),
        (layoff(headcount=None, percent=5.0), False, "Layoffs: Microsoft, 5% of staff"),
        (
            update(event(amount_usd=1.2e10, amount=1.2e10), 2, changed=["amount"]),
            True,
            "Update: Microsoft -> OpenAI, $12.0B",
        ),
        (
            update(layoff(headcount=12_000), 2, changed=["headcount"]),
            True,
            "Update: layoffs at Microsoft, 12,000 jobs",
        ),
        (update(event(), 2, changed=["sources"]), False, "New deal: Microsoft -> OpenAI, $10.0B"),
    ],
)
def test_headline(ev: Event, realert: bool, expected: str) -> None:
    """Headlines for new deals, layoffs and re-alerts; a rule's first alert is never 'Update'."""
    assert headline(alert(ev, realert=realert)) == expected


def test_is_update_only_for_versioned_ledger_keys() -> None:
    """Only an on_update re-alert (ledger key with :v<version>) is an update."""
    later = update(event(), 3, changed=["amount"])
    assert is_update(alert(later, realert=True))
    assert not is_update(alert(later))
    assert not is_update(alert(event()))


def test_deal_message_layout() -> None:
    """Header, fields, evidence quote, source with link and other-source count, context."""
    ev = event(amount=9.2e9, currency="EUR", stage="announced", languages=["fr", "en"])
    message = build_message([alert(ev)])
    blocks = Block.parse_all(message.blocks)
    assert [type(b) for b in blocks] == [
        HeaderBlock,
        SectionBlock,
        SectionBlock,
        SectionBlock,
        ContextBlock,
    ]
    fields = [f["text"] for f in message.blocks[1]["fields"]]
    assert fields == [
        "*Investor*\nMicrosoft",
        "*Target*\nOpenAI",
        "*Amount*\n€9.2B (≈ $10.0B)",
        "*Stage*\nannounced",
        "*Languages*\nfr, en",
    ]
    assert message.blocks[2]["text"]["text"] == "> Microsoft will invest $10 billion in OpenAI."
    assert message.blocks[3]["text"]["text"] == (
        "*Source:* <https://news.example/a1|Microsoft invests in OpenAI> (Wire A)"
        " and 2 other sources"
    )
    context = [e["text"] for e in message.blocks[4]["elements"]]
    assert context == ["rule *r*", "reason new", "first seen 2026-11-26 06:00 UTC", "3 reports"]
    assert message.text.startswith("New deal: Microsoft -&gt; OpenAI, €9.2B (≈ $10.0B). ")
    assert message.text.endswith("(Wire A and 2 others: https://news.example/a1)")
    json.dumps(message.payload())  # JSON-serialisable as sent


def test_layoff_fields() -> None:
    """A layoff shows company, jobs and share of staff."""
    message = build_message([alert(layoff(percent=4.5, languages=["de"]))])
    fields = [f["text"] for f in message.blocks[1]["fields"]]
    assert fields == [
        "*Company*\nMicrosoft",
        "*Jobs*\n10,000",
        "*Share of staff*\n4.5%",
        "*Language*\nde",
    ]


def test_mrkdwn_is_escaped_and_links_are_safe() -> None:
    """&, <, > in news text are escaped; a URL with | or > cannot break out of its link."""
    ev = event(
        evidence="A&B <b>bold</b> > quote",
        title="Deal | <now>",
        url="https://news.example/a?x=1|2>3",
    )
    message = build_message([alert(ev)])
    assert message.blocks[2]["text"]["text"] == "> A&amp;B &lt;b&gt;bold&lt;/b&gt; &gt; quote"
    assert (
        "<https://news.example/a?x=1%7C2%3E3|Deal ¦ &lt;now&gt;>"
        in message.blocks[3]["text"]["text"]
    )


def test_header_is_one_line() -> None:
    """Line breaks in names do not reach the header."""
    message = build_message([alert(event(investor="Micro\nsoft\tCorp"))])
    assert message.blocks[0]["text"]["text"] == "New deal: Micro soft Corp -> OpenAI, $10.0B"


def test_non_http_url_is_not_linked() -> None:
    """Only http(s) URLs become links."""
    message = build_message([alert(event(url="javascript:alert(1)"))])
    assert "<" not in message.blocks[3]["text"]["text"]


def test_long_texts_are_cut_to_slack_limits_with_an_ellipsis() -> None:
    """Huge evidence, names and lists stay within header/section/field/text limits."""
    long_name = "Société " + "Générale " * 40
    ev = event(
        investor=long_name,
        target="OpenAI",
        co_investors=[f"Fund {i}" for i in range(500)],
        evidence="word " * 5000,
        title="T" * 5000,
        languages=[f"l{i}" for i in range(800)],
    )
    message = build_message([alert(ev)])
    header = message.blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith(ELLIPSIS)
    for field in message.blocks[1]["fields"]:
        assert len(field["text"]) <= 2000
    assert message.blocks[1]["fields"][2]["text"].endswith(ELLIPSIS)  # co-investors
    evidence = message.blocks[2]["text"]["text"]
    assert len(evidence) == 3000 and evidence.endswith(ELLIPSIS)
    assert len(message.blocks[3]["text"]["text"]) <= 3000
    assert len(message.text) <= 3000 and message.text.endswith(ELLIPSIS)
    Block.parse_all(message.blocks)


def test_truncation_never_splits_an_entity() -> None:
    """Cutting escaped text never leaves half an &amp; before the ellipsis."""
    message = build_message([alert(event(evidence="&" * 4000))])
    evidence = message.blocks[2]["text"]["text"]
    assert evidence.endswith("&amp;" + ELLIPSIS)
    assert len(evidence) <= 3000


def test_digest_message_folds_updates() -> None:
    """A digest shows the latest state, the number of updates and what changed."""
    base = event()
    alerts = [
        alert(update(base, 3, amount_usd=1.3e10, changed=["amount"]), realert=True),
        alert(update(base, 2, amount_usd=1.2e10, changed=["amount"]), realert=True),
        alert(update(base, 4, stage="completed", changed=["stage"]), realert=True),
    ]
    message = build_message(alerts)
    assert message.blocks[0]["text"]["text"] == "Update: Microsoft -> OpenAI, $10.0B (3 updates)"
    context = [e["text"] for e in message.blocks[4]["elements"]]
    assert context[1] == "3 updates (amount, stage)"
    assert "*Stage*\ncompleted" in [f["text"] for f in message.blocks[1]["fields"]]


def test_build_message_needs_an_alert() -> None:
    """An empty digest is a programming error."""
    with pytest.raises(ValueError, match="at least one alert"):
        build_message([])


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=4000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    investor=st.text(min_size=1, max_size=400),
    evidence=_text,
    title=_text,
    sources=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=30),
    amount=st.one_of(st.none(), st.floats(min_value=0, max_value=1e15)),
)
def test_any_text_gives_a_valid_message_within_limits(
    investor: str, evidence: str, title: str, sources: list[str], amount: float | None
) -> None:
    """Whatever the news text, blocks validate and every Slack limit holds."""
    ev = event(
        investor=investor, evidence=evidence, title=title, sources=sources, amount_usd=amount
    )
    message = build_message([alert(ev)])
    blocks = Block.parse_all(message.blocks)
    assert len(blocks) <= 50
    for parsed in blocks:
        parsed.validate_json()
    assert len(message.blocks[0]["text"]["text"]) <= 150
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    assert 0 < len(message.text) <= 3000
