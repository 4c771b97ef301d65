"""Feed state and the commands that change it.

The state of every feed lives in a Faust table partitioned by feed id. Faust only
lets a stream change a table, so pollers never write it: they send a
`FeedCommand` keyed by feed id, and one agent applies it with `apply_command`,
a pure function. The state therefore advances only after the poller's articles
were acknowledged by the broker (the command is sent after them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, Field

from newsradar.models import WireModel, utcnow


class FeedState(WireModel):
    """Everything newsradar remembers about one feed between polls."""

    feed_id: str
    url: str
    name: str
    interval: int | None = None
    language: str | None = None
    partition: int | None = Field(default=None, description="table partition holding this feed")
    etag: str | None = None
    last_modified: str | None = None
    next_due: AwareDatetime = Field(default_factory=utcnow)
    consecutive_errors: int = 0
    last_error: str | None = None
    last_success: AwareDatetime | None = None
    polls: int = Field(default=0, description="applied polls; pollers wait for it to move")
    interval_seconds: float | None = Field(
        default=None, description="last adaptive interval, reused when the feed answers 304"
    )
    newest_entry: AwareDatetime | None = Field(
        default=None,
        description="newest entry date seen, so a feed answering 304 slows down as it stays quiet",
    )
    seen_ids: list[str] = Field(default_factory=list, description="recent article ids, newest last")


class FeedCommand(WireModel):
    """A change to one feed's state: register it, or record a poll's outcome."""

    kind: Literal["register", "polled", "failed"]
    feed_id: str
    url: str
    name: str
    interval: int | None = None
    language: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_due: AwareDatetime | None = None
    new_ids: list[str] = Field(default_factory=list)
    interval_seconds: float | None = None
    newest_entry: AwareDatetime | None = None
    error: str | None = None
    at: AwareDatetime = Field(default_factory=utcnow)


def apply_command(
    state: FeedState | None,
    command: FeedCommand,
    *,
    partition: int | None,
    max_seen: int,
) -> FeedState:
    """The feed state after `command`; registering an existing feed keeps its history."""
    if state is None:
        state = FeedState(
            feed_id=command.feed_id,
            url=command.url,
            name=command.name,
            next_due=command.at,
        )
    changes: dict[str, object] = {
        "url": command.url,
        "name": command.name,
        "interval": command.interval,
        "language": command.language,
        "partition": partition,
    }
    if command.kind == "polled":
        seen = [i for i in state.seen_ids if i not in set(command.new_ids)] + command.new_ids
        changes |= {
            "etag": command.etag,
            "last_modified": command.last_modified,
            "next_due": command.next_due or command.at,
            "consecutive_errors": 0,
            "last_error": None,
            "last_success": command.at,
            "polls": state.polls + 1,
            "interval_seconds": command.interval_seconds or state.interval_seconds,
            "newest_entry": max(
                (t for t in (state.newest_entry, command.newest_entry) if t is not None),
                default=None,
            ),
            "seen_ids": seen[-max_seen:],
        }
    elif command.kind == "failed":
        changes |= {
            "next_due": command.next_due or command.at,
            "consecutive_errors": state.consecutive_errors + 1,
            "last_error": command.error,
            "polls": state.polls + 1,
        }
    return state.model_copy(update=changes)


def is_due(state: FeedState, now: datetime, grace: timedelta = timedelta(0)) -> bool:
    """Whether the feed should be polled at `now`."""
    return state.next_due <= now + grace
