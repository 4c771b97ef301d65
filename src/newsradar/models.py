"""Wire models: one pydantic model per message, versioned, JSON on the wire.

Every topic carries exactly one of these models. `decode` turns bytes back into a
model or raises `DecodeError` with a reason fit for the dead-letter topic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from newsradar.errors import DecodeError

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
