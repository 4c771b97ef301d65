"""When to poll a feed next: pure functions of what the feed and server told us.

Polite polling, after miniflux: follow how often the feed really publishes,
never poll faster than its `<ttl>` or `Cache-Control: max-age` ask, back off
exponentially (with jitter) after errors, and honour `Retry-After`. Every
function takes `now` (and `rng`) as arguments so tests control the clock.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["backoff_seconds", "next_interval_seconds", "parse_retry_after"]

#: How many of the newest entries the publishing rhythm is estimated from.
RECENT_ENTRIES = 20
#: Entries dated further in the future than this are ignored (bad clocks, embargo dates).
FUTURE_TOLERANCE = timedelta(minutes=5)


def next_interval_seconds(
    entry_times: Sequence[datetime],
    *,
    now: datetime,
    min_s: float = 60,
    max_s: float = 3600,
    default_s: float = 900,
    configured_s: float | None = None,
    ttl_minutes: int | None = None,
    cache_max_age_seconds: float | None = None,
) -> float:
    """Seconds until the next poll of a feed whose entries were published at `entry_times`.

    The estimate is half the median gap between the newest entries, so a feed is
    polled about twice per new item; when the feed has been silent for longer
    than that median gap, half the silence is used instead, so a feed that went
    quiet slows down. Without two distinct past dates the interval is `default_s`.
    The feed's `<ttl>` and the response's cache max-age raise the lower bound
    above `min_s` (politeness). The upper bound is `max_s`, or `configured_s`
    when the operator set one: the configured interval always wins, even over
    the lower bounds.
    """
    recent = sorted(
        {t.astimezone(UTC) for t in entry_times if t <= now + FUTURE_TOLERANCE},
        reverse=True,
    )[:RECENT_ENTRIES]
    if len(recent) >= 2:
        gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(recent)]
        median_gap = statistics.median(gaps)
        silence = max(0.0, (now - recent[0]).total_seconds())
        candidate = max(median_gap, silence) / 2
    else:
        candidate = default_s

    lower = float(min_s)
    if ttl_minutes is not None and ttl_minutes > 0:
        lower = max(lower, ttl_minutes * 60.0)
    if cache_max_age_seconds is not None and cache_max_age_seconds > 0:
        lower = max(lower, float(cache_max_age_seconds))
    upper = float(configured_s) if configured_s is not None and configured_s > 0 else float(max_s)
    return min(max(candidate, lower), upper)


def backoff_seconds(
    consecutive_errors: int,
    *,
    base: float = 60,
    cap: float = 6 * 3600,
    rng: Callable[[], float] = random.random,
) -> float:
    """Delay before retrying a feed after `consecutive_errors` failures in a row.

    Exponential (`base`, 2×base, 4×base, ... up to `cap`) with equal jitter: the
    delay is drawn uniformly from [half, whole] of the exponential step, so many
    feeds failing together (a network outage) do not all retry in the same
    second, yet none retries sooner than half the step. No error, no delay.
    """
    if consecutive_errors <= 0:
        return 0.0
    exponent = min(consecutive_errors - 1, 64)  # 2**64 × base overflows no float but is silly
    step = min(float(cap), base * math.pow(2.0, exponent))
    return step / 2 + rng() * step / 2


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or HTTP date), or None.

    A date in the past gives 0; a value that is neither form gives None, so the
    caller falls back to its own backoff instead of trusting garbage.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
