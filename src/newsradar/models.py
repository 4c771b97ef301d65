"""Wire models: one pydantic model per message, versioned, JSON on the wire.

Every topic carries exactly one of these models. `decode` turns bytes back into a
model or raises `DecodeError` with a reason fit for the dead-letter topic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from newsradar.errors import DecodeError
from newsradar.nlp.schema import Analysis, Stage

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (naive datetimes are banned in this codebase)."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every message: frozen, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: int = SCHEMA_VERSION
    supported_versions: ClassVar[frozenset[int]] = frozenset({SCHEMA_VERSION})

    def to_bytes(self) -> bytes:
        """Serialise to compact JSON bytes."""
        return self.model_dump_json().encode("utf-8")


class Article(WireModel):
    """One news item as read from a feed; key on `news.articles` is `id`."""

    id: str = Field(description="stable hash of the canonical URL, or of the GUID")
    feed_id: str
    feed_url: str
    source: str = Field(description="human name of the feed or outlet")
    url: str | None = None
    guid: str | None = None
    title: str
    summary: str = Field(default="", description="plain text, HTML removed")
    content: str | None = None
    language: str | None = Field(default=None, description="as the feed declares it")
    published: AwareDatetime | None = None
    fetched: AwareDatetime = Field(default_factory=utcnow)


class DeadLetter(WireModel):
    """A message that could not be processed, kept with the reason and its original bytes."""

    stage: str
    topic: str
    reason: str
    key: str | None = None
    original: str = Field(description="the original bytes, decoded as UTF-8 with replacement")
    original_base64: str | None = Field(default=None, description="set when not valid UTF-8")
    failed_at: AwareDatetime = Field(default_factory=utcnow)


class Enriched(WireModel):
    """An article with its analysis; key on `news.enriched` is the article id.

    `fingerprint` is the SimHash of title + summary (see newsradar.fingerprint);
    `near_duplicate_of` names an earlier article with a near-identical text (the
    same wire story under another URL): such articles are marked, not dropped.
    """

    article: Article
    analysis: Analysis
    fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$")
    near_duplicate_of: str | None = None

    @property
    def id(self) -> str:
        """The article id (the message key)."""
        return self.article.id


EventKind = Literal["deal", "layoff"]
EventStatus = Literal["new", "update", "background"]
Change = Literal["investor", "amount", "headcount", "stage", "sources", "languages"]


class Event(WireModel):
    """One state of a real-world deal or layoff; key on `news.events` is `key`.

    `status`: new (first report), update (a later report), background (only past
    mentions so far: never alerted). `changed` lists what this report changed;
    an update with `changed == []` carries no new information and `repeat` is set
    when the report's article was already counted (a redelivery or replay).
    `version` counts the informative states (1 for the first, +1 per change).
    """

    event_id: str
    key: str
    kind: EventKind
    status: EventStatus
    version: int = Field(ge=1)
    repeat: bool = False
    changed: list[Change] = Field(default_factory=list)
    parties: list[str]
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
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    article_ids: list[str] = Field(description="articles counted, oldest first (bounded)")
    report_count: int = Field(ge=1, description="reports counted, including any beyond the bound")
    sources: list[str] = Field(description="distinct source names, in order of first report")
    languages: list[str]
    evidence: str = Field(description="the text span of the latest report that changed the event")
    title: str = Field(description="title of the first article")
    url: str | None = Field(default=None, description="URL of the first article")


class Alert(WireModel):
    """A rule's decision to alert on an event; key on `news.alerts` is `ledger_key`.

    `ledger_key` is `rule:event_key:event_id`, plus `:v<version>` for a re-alert
    on an update, so each alert has its own key and a redelivery is recognisable.
    """

    ledger_key: str
    rule: str
    channels: list[str]
    event: Event
    reason: str = Field(description='"new", or "update:" + what changed, e.g. "update:amount"')
    decided_at: AwareDatetime = Field(default_factory=utcnow)
    article_fetched: AwareDatetime | None = Field(
        default=None, description="when the article that caused the decision was fetched"
    )
    article_published: AwareDatetime | None = Field(
        default=None, description="that article's own publication time"
    )


M = TypeVar("M", bound=WireModel)


def decode(model: type[M], data: bytes | str | dict[str, Any]) -> M:
    """Decode bytes (or an already-parsed dict) into `model`, or raise `DecodeError`."""
    try:
        if isinstance(data, dict):
            obj = model.model_validate(data)
        else:
            obj = model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "<root>"
        raise DecodeError(
            f"{model.__name__}: {where}: {first.get('msg')} ({exc.error_count()} error(s))"
        ) from exc
    if obj.schema_version not in model.supported_versions:
        raise DecodeError(
            f"{model.__name__}: schema_version {obj.schema_version} not in "
            f"{sorted(model.supported_versions)}"
        )
    return obj
