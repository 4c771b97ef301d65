"""Feed state transitions: registration keeps history, polls advance it, failures count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsradar.ingest.state import FeedCommand, apply_command, is_due

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def cmd(kind: str, **kw: object) -> FeedCommand:
    base: dict[str, object] = {"feed_id": "f1", "url": "https://a.example/f", "name": "A", "at": T0}
    base.update(kw)
    return FeedCommand(kind=kind, **base)  # type: ignore[arg-type]


def test_register_creates_due_state_and_keeps_history_on_reregister() -> None:
    """A new feed is due at once; registering it again keeps its ETag and seen ids."""
    state = apply_command(None, cmd("register"), partition=2, max_seen=10)
    assert is_due(state, T0) and state.partition == 2 and state.polls == 0
    state = apply_command(
        state,
        cmd("polled", etag='"v1"', new_ids=["a", "b"], next_due=T0 + timedelta(minutes=5)),
        partition=2,
        max_seen=10,
    )
    again = apply_command(state, cmd("register", name="A renamed"), partition=2, max_seen=10)
    assert again.etag == '"v1"' and again.seen_ids == ["a", "b"] and again.name == "A renamed"
    assert not is_due(again, T0)


def test_seen_ids_are_bounded_and_newest_kept() -> None:
    """Seen ids keep the most recent `max_seen`, without duplicates."""
    state = apply_command(None, cmd("register"), partition=0, max_seen=3)
    state = apply_command(state, cmd("polled", new_ids=["a", "b"]), partition=0, max_seen=3)
    state = apply_command(state, cmd("polled", new_ids=["b", "c", "d"]), partition=0, max_seen=3)
    assert state.seen_ids == ["b", "c", "d"]
    assert state.polls == 2


def test_failures_count_and_success_resets() -> None:
    """Failures increase the error count and keep validators; a success resets the count."""
    state = apply_command(None, cmd("register"), partition=0, max_seen=3)
    state = apply_command(state, cmd("polled", etag="e1"), partition=0, max_seen=3)
    for _ in range(3):
        state = apply_command(state, cmd("failed", error="timeout: slow"), partition=0, max_seen=3)
    assert (
        state.consecutive_errors == 3 and state.etag == "e1" and state.last_error == "timeout: slow"
    )
    state = apply_command(state, cmd("polled", etag="e2"), partition=0, max_seen=3)
    assert state.consecutive_errors == 0 and state.last_error is None and state.etag == "e2"
