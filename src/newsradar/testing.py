"""Builders of wire objects for tests of newsradar and of users' own integrations.

They give one well-formed object with realistic defaults (the Microsoft -> OpenAI deal of
the seed article, and its layoff); tests override what they are about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newsradar.models import Event

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def deal_event(**overrides: Any) -> Event:
    """A new deal event Microsoft -> OpenAI, $10bn, one English source."""
    fields: dict[str, Any] = {
        "event_id": "e1",
        "key": "deal:microsoft|openai",
        "kind": "deal",
        "status": "new",
        "version": 1,
        "parties": ["Microsoft", "OpenAI"],
        "investor": "Microsoft",
        "target": "OpenAI",
        "amount_usd": 1e10,
        "amount": 1e10,
        "currency": "USD",
        "first_seen": T0,
        "last_seen": T0,
        "article_ids": ["a1"],
        "report_count": 1,
        "sources": ["Wire A"],
        "languages": ["en"],
        "evidence": "Microsoft invests $10 billion in OpenAI",
        "title": "Microsoft invests in OpenAI",
    }
    fields.update(overrides)
    return Event(**fields)


def layoff_event(**overrides: Any) -> Event:
    """A new layoff event at Microsoft, 10,000 jobs."""
    fields: dict[str, Any] = {
        "key": "layoff:microsoft",
        "kind": "layoff",
        "parties": ["Microsoft"],
        "investor": None,
        "target": None,
        "company": "Microsoft",
        "amount_usd": None,
        "amount": None,
        "currency": None,
        "headcount": 10_000,
        "evidence": "Microsoft will cut 10,000 jobs.",
    }
    fields.update(overrides)
    return deal_event(**fields)
