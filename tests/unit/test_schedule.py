"""Poll timing: adaptive intervals, backoff with jitter, Retry-After, on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsradar.ingest.schedule import backoff_seconds, next_interval_seconds, parse_retry_after

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def every(minutes: float, count: int = 10, *, last: timedelta = timedelta(0)) -> list[datetime]:
    """`count` entry times `minutes` apart, the newest `last` before NOW."""
    return [NOW - last - timedelta(minutes=minutes * i) for i in range(count)]


def test_busy_feed_is_polled_at_half_its_publishing_gap() -> None:
    """A feed publishing every 10 minutes is polled every 5."""
    assert next_interval_seconds(every(10), now=NOW) == 300


def test_very_busy_feed_is_clamped_to_min() -> None:
    """A feed publishing every 30 s is still polled no faster than min_s."""
    assert next_interval_seconds(every(0.5), now=NOW) == 60
    assert next_interval_seconds(every(0.5), now=NOW, min_s=120) == 120


def test_slow_feed_is_clamped_to_max() -> None:
    """A daily feed is polled at max_s."""
    assert next_interval_seconds(every(24 * 60), now=NOW) == 3600


def test_feed_gone_quiet_slows_down() -> None:
    """A 10-minute feed silent for 80 minutes is polled every 40 minutes, not every 5."""
    times = every(10, last=timedelta(minutes=80))
    assert next_interval_seconds(times, now=NOW) == 40 * 60


def test_median_ignores_one_burst() -> None:
    """One burst of items in the same minute does not make an hourly feed look busy."""
    times = [*every(60, 10), *(NOW - timedelta(seconds=s) for s in (5, 10, 15))]
    assert next_interval_seconds(times, now=NOW, max_s=7200) == 30 * 60


@pytest.mark.parametrize("times", [[], [NOW], [NOW, NOW, NOW]])
def test_too_few_dates_give_the_default(times: list[datetime]) -> None:
    """Fewer than two distinct dates give default_s."""
    assert next_interval_seconds(times, now=NOW) == 900
    assert next_interval_seconds(times, now=NOW, default_s=600) == 600


def test_future_dates_are_ignored() -> None:
    """Items dated tomorrow (bad clocks) do not shrink or stretch the interval."""
    times = [*every(10), NOW + timedelta(days=1), NOW + timedelta(days=2)]
    assert next_interval_seconds(times, now=NOW) == 300


def test_time_zones_do_not_matter() -> None:
    """The same instants in another zone give the same interval."""
    paris = timezone(timedelta(hours=1))
    times = [t.astimezone(paris) for t in every(10)]
    assert next_interval_seconds(times, now=NOW) == 300


def test_configured_interval_is_the_upper_bound() -> None:
    """A configured interval caps the adaptive one, even over TTL and max-age."""
    assert next_interval_seconds(every(24 * 60), now=NOW, configured_s=600) == 600
    assert next_interval_seconds(every(10), now=NOW, configured_s=600) == 300
    assert next_interval_seconds(every(10), now=NOW, configured_s=120, ttl_minutes=60) == 120


def test_configured_interval_may_exceed_max() -> None:
    """An operator's interval longer than max_s wins (configured replaces max_s)."""
    assert next_interval_seconds(every(240), now=NOW, configured_s=7200) == 7200


def test_ttl_and_cache_max_age_raise_the_lower_bound() -> None:
    """<ttl> and Cache-Control max-age are honoured as minimum intervals, capped by max_s."""
    assert next_interval_seconds(every(10), now=NOW, ttl_minutes=20) == 1200
    assert next_interval_seconds(every(10), now=NOW, cache_max_age_seconds=900) == 900
    assert next_interval_seconds(every(10), now=NOW, ttl_minutes=24 * 60) == 3600
    assert next_interval_seconds(every(10), now=NOW, ttl_minutes=0) == 300


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
            max_value=datetime(2030, 1, 1),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        max_size=40,
    ),
    st.floats(min_value=1, max_value=600),
    st.floats(min_value=600, max_value=86400),
)
def test_interval_always_within_bounds(times: list[datetime], low: float, high: float) -> None:
    """Whatever the dates, the interval stays within [min_s, max_s]."""
    assert low <= next_interval_seconds(times, now=NOW, min_s=low, max_s=high) <= high


@pytest.mark.parametrize(
    ("errors", "low", "high"),
    [(1, 30, 60), (2, 60, 120), (3, 120, 240), (6, 960, 1920), (9, 7680, 15360)],
)
def test_backoff_doubles_with_equal_jitter(errors: int, low: float, high: float) -> None:
    """The n-th error waits between half and all of base·2^(n-1)."""
    assert backoff_seconds(errors, rng=lambda: 0.0) == low
    assert backoff_seconds(errors, rng=lambda: 0.999999) == pytest.approx(high, rel=1e-5)


def test_backoff_is_capped_and_zero_without_errors() -> None:
    """The step never exceeds cap, even after 10,000 errors; no error means no delay."""
    assert backoff_seconds(10_000, rng=lambda: 1.0) == 6 * 3600
    assert backoff_seconds(50, base=10, cap=100, rng=lambda: 0.0) == 50
    assert backoff_seconds(0) == 0.0
    assert backoff_seconds(-3) == 0.0


def test_backoff_jitter_spreads_retries() -> None:
    """With the real random source, 200 feeds failing together do not retry in lockstep."""
    delays = {round(backoff_seconds(4), 3) for _ in range(200)}
    assert len(delays) > 150
    assert all(240 <= d <= 480 for d in delays)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        ("Tue, 24 Nov 2026 12:10:00 GMT", 600.0),
        ("Tue, 24 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        ("Tue, 24 Nov 2026 12:01:00 -0000", 60.0),  # naive form, read as UTC
    ],
)
def test_parse_retry_after(value: str, seconds: float) -> None:
    """Delay-seconds and HTTP dates both become seconds from now."""
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Tue, 99 Foo 2026"])
def test_parse_retry_after_rejects_garbage(value: str | None) -> None:
    """Anything that is not delay-seconds or an HTTP date gives None."""
    assert parse_retry_after(value, now=NOW) is None
