"""Replay: loading articles from files and running enrich -> events -> decide in memory."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsradar.config import Settings
from newsradar.errors import DecodeError
from newsradar.models import Alert
from newsradar.nlp.schema import Analysis, Deal, Evidence
from newsradar.replay import (
    Replayer,
    decision_json,
    decision_line,
    load_articles,
    replay_files,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "replay"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def shared_dir() -> Path:
    """The shared data: $NEWSRADAR_SHARED_DIR/data, else ../shared/data beside the repository."""
    env = os.environ.get("NEWSRADAR_SHARED_DIR")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared"
    return root / "data"


def settings(*rules: dict[str, Any]) -> Settings:
    """Settings with the given rules and one log channel."""
    return Settings.model_validate(
        {"rules": [{"channels": ["log"], **r} for r in rules], "channels": {"log": {"type": "log"}}}
    )


DEFAULT_RULES = settings(
    {"name": "microsoft-openai-deals", "kind": "deal", "parties_all": ["Microsoft", "OpenAI"]},
    {"name": "ai-investments", "kind": "deal", "min_amount_usd": 1e8},
    {"name": "layoffs", "kind": "layoff", "min_headcount": 1000},
)

PAIR_RULES = settings(
    {"name": "amazon-anthropic", "kind": "deal", "parties_all": ["Amazon", "Anthropic"]},
    {"name": "big-deals", "kind": "deal", "min_amount_usd": 1e8, "on_update": True},
)


def replay(config: Settings, *files: str, replayer: Replayer | None = None) -> list[Alert]:
    """Replay files from tests/data/replay with the real analyze; return the decisions."""
    replayer = replayer or Replayer(config, clock=lambda: NOW)
    alerts: list[Alert] = []
    for name in files:
        alerts.extend(replayer.feed_all(load_articles(DATA / name)))
    return alerts


# --- loading --------------------------------------------------------------------------


def test_load_jsonl_evaluation_items() -> None:
    """Evaluation-shaped lines become Articles with id, source, language and date."""
    articles = load_articles(DATA / "deal_ten_outlets.jsonl")
    assert len(articles) == 10
    first = articles[0]
    assert first.id == "ten-01"
    assert first.source == "Example Wire"
    assert first.language == "en"
    assert first.published == datetime(2023, 9, 25, tzinfo=UTC)
    assert first.title.startswith("Amazon to invest")


def test_load_dev_file_maps_urls_to_outlet_names(tmp_path: Path) -> None:
    """A source given as URL becomes the article URL and its host the source name."""
    path = tmp_path / "items.jsonl"
    rows = [
        {"id": "x1", "title": "T", "summary": "S", "published": None,
         "published_approx": "2023-01", "source": "https://www.example.org/a/b", "lang": "fr"},
        {"id": "x2", "title": "T2", "published": None, "source": "repo/path/file.ts",
         "original_url": "https://news.example.com/story"},
        {"id": "x3", "title": "T3", "published_approx": "2024"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    one, two, three = load_articles(path)
    assert (one.url, one.source, one.language) == (
        "https://www.example.org/a/b",
        "example.org",
        "fr",
    )
    assert one.published == datetime(2023, 1, 1, tzinfo=UTC)
    assert (two.url, two.source) == ("https://news.example.com/story", "news.example.com")
    assert three.published == datetime(2024, 1, 1, tzinfo=UTC)
    assert three.url is None


def test_load_article_dumps(tmp_path: Path) -> None:
    """Lines that are Article dumps (news.articles) load unchanged."""
    [article] = load_articles(DATA / "deal_revised_amount.jsonl")
    path = tmp_path / "dump.jsonl"
    path.write_text(article.model_dump_json() + "\n", encoding="utf-8")
    assert load_articles(path) == [article]


def test_load_feed_file() -> None:
    """An RSS file is read with the ingest parser, the feed title as source name."""
    articles = load_articles(DATA / "two_items.rss")
    assert [a.title for a in articles] == [
        "Globex to cut 1,200 jobs",
        "Amazon to invest $4 billion in Anthropic",
    ]
    assert articles[0].source == "Example Business Feed"
    assert articles[0].url == "https://news.example/globex-cuts"
    assert "1,200 people" in articles[0].summary
    assert "<p>" not in articles[0].summary


def test_load_plain_text_is_one_article() -> None:
    """A plain-text file (the seed article) is one article titled by its first sentence."""
    [article] = load_articles(shared_dir() / "seed_article.txt")
    assert article.title.endswith("ChatGPT.")
    assert article.summary.startswith("Microsoft")
    assert article.published is None


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    """A broken JSON line is reported with its file and line number."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "title": "ok"}\n{"id": "b", \n', encoding="utf-8")
    with pytest.raises(DecodeError, match=r"bad\.jsonl:2"):
        load_articles(path)


# --- the pipeline with a stand-in analysis (plumbing only) ----------------------------


def _fixed_analyze(title: str, summary: str = "", **_: Any) -> Analysis:
    """A stand-in for analyze(): every article reports the same $2bn Northwind deal."""
    text = f"{title}\n{summary}" if summary else title
    deal = Deal(
        investor="Northwind",
        target="Acme AI",
        amount_usd=2e9,
        amount=2e9,
        currency="USD",
        evidence=Evidence(text=title, start=0, end=len(title)),
    )
    return Analysis(text=text, language="en", language_score=1.0, deals=[deal])


def test_replayer_marks_syndicated_copies_and_keeps_them() -> None:
    """A syndicated copy is marked near-duplicate of the original and still counted."""
    replayer = Replayer(settings({"name": "all", "kind": "deal"}), analyze=_fixed_analyze)
    alerts = replayer.feed_all(load_articles(DATA / "deal_ten_outlets.jsonl"))
    assert [a.reason for a in alerts] == ["new"]
    marked = {e.id: e.near_duplicate_of for e in replayer.enriched if e.near_duplicate_of}
    assert marked == {"ten-10": "ten-02"}
    [event] = replayer.current_events()
    assert event.report_count == 10
    assert len(event.sources) == 10


def test_replayer_duplicate_delivery_changes_nothing() -> None:
    """Feeding the same file twice adds no decision and leaves the event books equal."""
    replayer = Replayer(settings({"name": "all", "kind": "deal"}), analyze=_fixed_analyze)
    articles = load_articles(DATA / "deal_ten_outlets.jsonl")
    first = replayer.feed_all(articles)
    books = dict(replayer.books)
    assert replayer.feed_all(articles) == []
    assert replayer.books == books
    assert len(first) == 1
    assert all(e.repeat for e in replayer.events[10:])


def test_decision_json_has_the_promised_fields() -> None:
    """The --json line carries rule, kind, status, key, parties, figures, ids, sources."""
    replayer = Replayer(
        settings({"name": "all", "kind": "deal"}), analyze=_fixed_analyze, clock=lambda: NOW
    )
    [alert] = replayer.feed_all(load_articles(DATA / "deal_ten_outlets.jsonl")[:1])
    line = decision_json(alert)
    assert json.loads(json.dumps(line)) == line
    for field in ("rule", "kind", "status", "event_key", "event_id", "investor", "target",
                  "amount_usd", "company", "headcount", "article_ids", "sources"):  # fmt: skip
        assert field in line
    assert line["rule"] == "all"
    assert line["event_key"] == "deal:northwind|acme-ai"
    assert line["article_ids"] == ["ten-01"]
    assert line["sources"] == ["Example Wire"]
    assert line["decided_at"] == "2026-01-01T00:00:00+00:00"


def test_decision_line_is_readable() -> None:
    """The plain output names rule, reason, parties, amount, sources and the ledger key."""
    replayer = Replayer(settings({"name": "all", "kind": "deal"}), analyze=_fixed_analyze)
    [alert] = replayer.feed_all(load_articles(DATA / "deal_ten_outlets.jsonl")[:1])
    line = decision_line(alert)
    assert line.startswith("[all] new: deal Northwind -> Acme AI $2bn; 1 source, 2023-09-25;")
    assert line.endswith(f"({alert.ledger_key})")


def test_replay_files_writes_one_json_line_per_decision() -> None:
    """replay_files (the CLI body) prints each decision as one JSON object a line."""
    lines: list[str] = []
    config = settings({"name": "all", "kind": "deal"}, {"name": "big", "kind": "deal"})
    alerts = replay_files(
        [DATA / "deal_ten_outlets.jsonl", DATA / "deal_ten_outlets.jsonl"],
        config,
        as_json=True,
        write=lines.append,
        replayer=Replayer(config, analyze=_fixed_analyze),
    )
    assert len(alerts) == len(lines) == 2
    assert [json.loads(line)["rule"] for line in lines] == ["all", "big"]


# --- real analyze on real and written data --------------------------------------------


def test_seed_article_gives_the_promised_decisions() -> None:
    """The seed article: one Microsoft->OpenAI $10bn decision, one 10,000 layoff, no 2019."""
    replayer = Replayer(DEFAULT_RULES, clock=lambda: NOW)
    alerts = replayer.feed_all(load_articles(shared_dir() / "seed_article.txt"))
    pair = [a for a in alerts if a.rule == "microsoft-openai-deals"]
    layoffs = [a for a in alerts if a.rule == "layoffs"]
    assert len(pair) == 1
    assert (pair[0].event.investor, pair[0].event.target) == ("Microsoft", "OpenAI")
    assert pair[0].event.amount_usd == pytest.approx(1e10)
    assert len(layoffs) == 1
    assert (layoffs[0].event.company, layoffs[0].event.headcount) == ("Microsoft", 10000)
    assert not [a for a in alerts if a.event.amount_usd == pytest.approx(1e9)]
    assert all(a.event.status == "new" for a in alerts)


def test_ten_outlets_give_one_new_decision_per_rule() -> None:
    """Ten reports in four languages make one event and one `new` decision per rule."""
    replayer = Replayer(PAIR_RULES, clock=lambda: NOW)
    alerts = replay(PAIR_RULES, "deal_ten_outlets.jsonl", replayer=replayer)
    assert sorted(a.rule for a in alerts) == ["amazon-anthropic", "big-deals"]
    pair = next(a for a in alerts if a.rule == "amazon-anthropic")
    assert pair.reason == "new"
    events = [e for e in replayer.current_events() if e.key == "deal:amazon|anthropic"]
    assert len(events) == 1
    assert events[0].amount_usd == pytest.approx(4e9)
    assert len(events[0].sources) >= 8
    assert set(events[0].languages) == {"en", "fr", "de", "es"}


def test_revised_amount_updates_only_on_update_rules() -> None:
    """A later report with a revised amount re-alerts only the rule with on_update."""
    replayer = Replayer(PAIR_RULES, clock=lambda: NOW)
    replay(PAIR_RULES, "deal_ten_outlets.jsonl", replayer=replayer)
    alerts = replay(PAIR_RULES, "deal_revised_amount.jsonl", replayer=replayer)
    assert [(a.rule, a.reason) for a in alerts] == [("big-deals", "update:amount")]
    assert alerts[0].event.amount_usd == pytest.approx(4.3e9)
    assert alerts[0].ledger_key.rsplit(":", 1)[1].startswith("v")


def test_same_parties_months_apart_are_two_events() -> None:
    """Two Google->Anthropic deals fifteen months apart make two events, two alerts."""
    config = settings({"name": "pair", "kind": "deal", "parties_all": ["Google", "Anthropic"]})
    replayer = Replayer(config, clock=lambda: NOW)
    alerts = replay(config, "deal_months_apart.jsonl", replayer=replayer)
    assert len(alerts) == 2
    assert alerts[0].event.event_id != alerts[1].event.event_id
    assert {a.event.key for a in alerts} == {"deal:google|anthropic"}


def test_duplicate_delivery_with_real_analysis_changes_nothing() -> None:
    """Replaying every written file a second time yields no decision at all."""
    replayer = Replayer(PAIR_RULES, clock=lambda: NOW)
    files = ("deal_ten_outlets.jsonl", "deal_revised_amount.jsonl", "deal_months_apart.jsonl")
    first = replay(PAIR_RULES, *files, replayer=replayer)
    assert first
    assert replay(PAIR_RULES, *files, replayer=replayer) == []


def test_round_reported_before_its_lead_is_named_is_one_event() -> None:
    """Outlets without the lead alert at once; the first naming it completes the same
    event (an on_update rule hears of it); later unnamed reports join it."""
    config = settings(
        {"name": "big-deals", "kind": "deal", "min_amount_usd": 1e8, "on_update": True},
        {"name": "kestrel", "kind": "deal", "parties_any": ["Kestrel Partners"]},
    )
    replayer = Replayer(config, clock=lambda: NOW)
    alerts = replay(config, "deal_lead_named_later.jsonl", replayer=replayer)
    assert [(a.rule, a.reason) for a in alerts] == [
        ("big-deals", "new"),
        ("big-deals", "update:investor"),
        ("kestrel", "update:sources,languages,investor"),
    ]
    [event] = [e for e in replayer.current_events() if e.target == "Vectrion AI"]
    assert event.key == "deal:?|vectrion-ai"
    assert event.investor == "Kestrel Partners"
    assert event.report_count == 5
    assert set(event.languages) == {"en", "fr", "de", "es"}
    assert {a.event.event_id for a in alerts} == {event.event_id}
