"""Freshness: delay from an item appearing in a feed to its poll, adaptive interval vs fixed 5 min.

A SIMULATION on a virtual clock, not a live run: feeds publish items at random
(Poisson) at several rates, and each is polled either

- adaptively, with newsradar's own scheduling code: `Poller._interval` (which calls
  `schedule.next_interval_seconds` on a 200 and keeps the last interval on a 304),
  with the default bounds (min 60 s, max 3,600 s, default 600 s), or
- every 300 s (the baseline: a fixed 5-minute interval), or
- "silence", an EXPERIMENT: the adaptive policy, but a 304 also stretches the
  interval to half the silence since the newest item (the current code keeps the
  last interval on a 304, so a feed that falls silent is polled at its busy rate).

A poll sees the feed's 50 newest items published by then; when nothing is new the
server answers 304 (no entry times reach the scheduler, as in the service). An
item's delay is the time from its publication to the first poll at or after it.
The delay to a decision adds the pipeline's latency (bench_pipeline: tens of ms),
which is negligible at this scale and not simulated. Polls per day are the cost.

    python benchmarks/bench_freshness.py [--json] [--quick] [--days D] [--feeds N]
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, load_average, machine, percentile

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
WINDOW = 50
FIXED_SECONDS = 300.0
#: "silence" is an EXPERIMENT (a proposed change to the 304 path), not the current code.
POLICIES = ("adaptive", "silence", "fixed")

#: Feed classes: name -> (mean seconds between items by day, by night). Night is 22h-6h.
CLASSES: dict[str, tuple[float, float]] = {
    "wire (every 2 min)": (120, 120),
    "busy (every 10 min)": (600, 600),
    "hourly": (3600, 3600),
    "daily-ish (every 6 h)": (6 * 3600, 6 * 3600),
    "office hours (15 min by day, silent at night)": (900, float("inf")),
}


def publications(rng: random.Random, day: float, night: float, seconds: float) -> list[datetime]:
    """Poisson publication times over `seconds` from START, day and night rates."""
    times = []
    t = 0.0
    while t < seconds:
        hour = (START + timedelta(seconds=t)).hour
        mean = night if hour >= 22 or hour < 6 else day
        if mean == float("inf"):
            t = (t // 86400) * 86400 + (6 * 3600 if hour < 6 else 30 * 3600)  # next 06:00
            continue
        t += rng.expovariate(1 / mean)
        if t < seconds:
            times.append(START + timedelta(seconds=t))
    return times


def simulate(
    items: list[datetime], seconds: float, policy: str, rng: random.Random
) -> dict[str, Any]:
    """Poll one feed over the horizon; delays of its items and the number of polls."""
    from prometheus_client import CollectorRegistry

    from newsradar.ingest.poller import PollBounds, Poller
    from newsradar.ingest.state import FeedState
    from newsradar.metrics import Metrics

    poller = Poller(None, None, Metrics(CollectorRegistry()), PollBounds())  # type: ignore[arg-type]
    state = FeedState(feed_id="f", url="http://feed.invalid/", name="f")
    end = START + timedelta(seconds=seconds)
    now = START + timedelta(seconds=rng.uniform(0, FIXED_SECONDS))  # random phase
    seen = 0  # items published before the last poll
    delays: list[float] = []
    polls = not_modified = 0
    while now < end:
        polls += 1
        visible = seen
        while visible < len(items) and items[visible] <= now:
            visible += 1
        fresh = items[seen:visible]
        delays.extend((now - t).total_seconds() for t in fresh)
        if policy == "fixed":
            interval = FIXED_SECONDS
        elif fresh:
            entry_times = items[max(0, visible - WINDOW) : visible]
            interval = poller._interval(state, now, entry_times)
        else:
            not_modified += 1
            interval = poller._interval(state, now)
            if policy == "silence" and visible:
                # EXPERIMENT: on a 304, let the silence since the newest item stretch the
                # interval as next_interval_seconds does on a 200 (needs the newest entry
                # time kept in FeedState).
                silence = (now - items[visible - 1]).total_seconds()
                interval = min(max(interval, silence / 2), float(poller.bounds.max_interval))
        state = state.model_copy(update={"interval_seconds": interval, "polls": polls})
        seen = visible
        now += timedelta(seconds=interval)
    return {"delays": delays, "polls": polls, "not_modified": not_modified}


def run(days: float, feeds: int, seed: int) -> dict[str, Any]:
    """Every class x policy; delay percentiles and polls per feed per day."""
    seconds = days * 86400
    out: dict[str, Any] = {}
    for name, (day, night) in CLASSES.items():
        rng = random.Random(f"{seed}:{name}")
        feeds_items = [publications(rng, day, night, seconds) for _ in range(feeds)]
        row: dict[str, Any] = {}
        for policy in POLICIES:
            delays: list[float] = []
            polls = 0
            for items in feeds_items:
                result = simulate(items, seconds, policy, random.Random(f"{seed}:{policy}"))
                delays.extend(result["delays"])
                polls += result["polls"]
            row[policy] = {
                "items": len(delays),
                "delay_p50_s": round(percentile(delays, 50), 1),
                "delay_p90_s": round(percentile(delays, 90), 1),
                "delay_mean_s": round(sum(delays) / len(delays), 1) if delays else None,
                "polls_per_feed_day": round(polls / feeds / days, 1),
            }
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse options, simulate, print one line per feed class."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 days, 5 feeds")
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.feeds = 2, 5
    result: dict[str, Any] = {
        "machine": machine(),
        "kind": "simulation, virtual clock, newsradar's Poller._interval",
        "days": args.days,
        "feeds_per_class": args.feeds,
        "classes": run(args.days, args.feeds, args.seed),
    }
    result["load_average_end"] = [round(x, 2) for x in load_average()]
    lines = [
        f"simulated {args.days:g} days, {args.feeds} feeds per class; delay = publication -> poll",
        f"{'feed class':<46} {'policy':<9} {'p50 s':>8} {'p90 s':>8} {'mean s':>8} "
        f"{'polls/day':>10}",
    ]
    for name, row in result["classes"].items():
        for policy in POLICIES:
            r = row[policy]
            lines.append(
                f"{name:<46} {policy:<9} {r['delay_p50_s']:>8.0f} {r['delay_p90_s']:>8.0f} "
                f"{r['delay_mean_s']:>8.0f} {r['polls_per_feed_day']:>10.1f}"
            )
    emit(result, args.json, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
