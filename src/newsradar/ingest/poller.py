"""One poll of one feed: fetch, parse off the event loop, keep the new items, publish, report.

`Poller.poll` never raises for a bad feed: every failure becomes a `failed`
command with a backoff, a log line and a metric. It raises only when the broker
does not acknowledge (then nothing about the feed changes and the next tick
tries again, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsradar.errors import FetchError, HTTPStatusError
from newsradar.ingest.fetch import FeedFetcher, FetchResult
from newsradar.ingest.parse import ParsedFeed, parse_feed
from newsradar.ingest.schedule import FUTURE_TOLERANCE, backoff_seconds, next_interval_seconds
from newsradar.ingest.state import FeedCommand, FeedState
from newsradar.metrics import Metrics
from newsradar.models import Article, utcnow

log = logging.getLogger(__name__)

PublishArticles = Callable[[Sequence[Article]], Awaitable[None]]


def parse_executor(processes: int) -> Executor:
    """Where feeds are parsed: feedparser is CPU-bound Python, so threads share one core
    (the GIL) while processes use them all. Processes are started by a fork server, since
    forking a process that runs Kafka client threads can deadlock."""
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsradar-parse")
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )


def _exit_with(owner_pid: int) -> None:
    """In a parse process: exit when the worker that owns the pool is gone.

    A pool process holds both ends of its task pipe, so it never sees its owner die; after
    a SIGKILL of the worker it would wait forever (its parent is the fork server, so
    PR_SET_PDEATHSIG cannot help). A daemon thread checks the owner every second.
    """

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the pid was reused by another user's process
                os._exit(0)

    threading.Thread(target=watch, name="newsradar-owner-watch", daemon=True).start()


@dataclass(frozen=True, slots=True)
class PollBounds:
    """Interval bounds and the backoff cap, in seconds."""

    min_interval: int = 60
    max_interval: int = 3600
    default_interval: int = 600
    max_backoff: int = 6 * 3600


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll did: the command to apply, and what was published."""

    command: FeedCommand
    published: int
    outcome: str


class Poller:
    """Polls feeds with one shared fetcher; publishing is injected (Kafka in the app)."""

    def __init__(
        self,
        fetcher: FeedFetcher,
        publish: PublishArticles,
        metrics: Metrics,
        bounds: PollBounds,
        executor: Executor | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.publish = publish
        self.metrics = metrics
        self.bounds = bounds
        self.executor = executor
        self._body_hashes: dict[str, str] = {}

    def _command(self, state: FeedState, kind: str, **fields: object) -> FeedCommand:
        return FeedCommand(
            kind=kind,  # type: ignore[arg-type]
            feed_id=state.feed_id,
            url=state.url,
            name=state.name,
            interval=state.interval,
            language=state.language,
            **fields,  # type: ignore[arg-type]
        )

    def _interval(
        self,
        state: FeedState,
        now: datetime,
        entry_times: Sequence[datetime] = (),
        result: FetchResult | None = None,
        ttl_minutes: int | None = None,
    ) -> float:
        """Seconds until the next poll: adaptive from the entries, else the last estimate,
        lengthened by the feed's silence so a feed that went quiet is polled less."""
        if not entry_times and state.interval_seconds:
            seconds = state.interval_seconds
            if state.newest_entry is not None:
                # As in next_interval_seconds: half the silence since the newest entry.
                silence = (now - state.newest_entry).total_seconds()
                upper = state.interval or self.bounds.max_interval
                seconds = max(seconds, min(silence / 2, upper))
        else:
            seconds = next_interval_seconds(
                list(entry_times),
                now=now,
                min_s=self.bounds.min_interval,
                max_s=self.bounds.max_interval,
                default_s=self.bounds.default_interval,
                configured_s=state.interval,
                ttl_minutes=ttl_minutes,
                cache_max_age_seconds=result.cache_max_age_seconds if result else None,
            )
        if result is not None and result.retry_after_seconds:
            seconds = max(seconds, result.retry_after_seconds)
        return seconds

    def _failed(
        self,
        state: FeedState,
        now: datetime,
        kind: str,
        error: str,
        retry_after: float | None = None,
    ) -> PollOutcome:
        delay = backoff_seconds(
            state.consecutive_errors + 1, base=self.bounds.min_interval, cap=self.bounds.max_backoff
        )
        if retry_after:
            delay = max(delay, retry_after)
        self.metrics.feed_polls.labels(state.name, kind).inc()
        self.metrics.feed_consecutive_errors.labels(state.name).set(state.consecutive_errors + 1)
        log.warning(
            "feed poll failed feed=%s kind=%s error=%s consecutive_errors=%d "
            "retry_delay_seconds=%.0f",
            state.name,
            kind,
            error,
            state.consecutive_errors + 1,
            delay,
        )
        command = self._command(
            state,
            "failed",
            error=f"{kind}: {error}"[:500],
            next_due=now + timedelta(seconds=delay),
            at=now,
        )
        return PollOutcome(command, 0, kind)

    async def poll(self, state: FeedState) -> PollOutcome:
        """Poll `state`'s feed once; publish its new articles; return the state command."""
        now = utcnow()
        started = time.perf_counter()
        try:
            result = await self.fetcher.fetch(
                state.url, etag=state.etag, last_modified=state.last_modified
            )
        except HTTPStatusError as exc:
            return self._failed(state, now, exc.kind, str(exc), exc.retry_after_seconds)
        except FetchError as exc:
            return self._failed(state, now, exc.kind, str(exc))
        finally:
            self.metrics.feed_fetch_seconds.labels(state.name).observe(
                time.perf_counter() - started
            )
        if result.status == 304 or result.body is None:
            return self._ok(
                state,
                now,
                "not_modified",
                result,
                etag=result.etag or state.etag,
                last_modified=result.last_modified or state.last_modified,
            )
        self.metrics.feed_bytes.labels(state.name).inc(result.body_bytes)
        # An unchanged body (servers without validators) needs no parsing at all.
        digest = hashlib.blake2b(result.body, digest_size=16).hexdigest()
        if self._body_hashes.get(state.feed_id) == digest and state.polls > 0:
            return self._ok(
                state,
                now,
                "not_modified",
                result,
                etag=result.etag,
                last_modified=result.last_modified,
            )
        loop = asyncio.get_running_loop()
        try:
            parsed: ParsedFeed = await loop.run_in_executor(
                self.executor,
                functools.partial(  # picklable, so a process pool can run it
                    parse_feed,
                    result.body or b"",
                    feed_url=result.final_url or state.url,
                    feed_id=state.feed_id,
                    source=state.name,
                    content_type=result.content_type,
                    fetched=now,
                ),
            )
        except Exception as exc:  # feedparser is defensive, but a bad body must never stop us
            return self._failed(state, now, "malformed", f"{type(exc).__name__}: {exc}")
        if not parsed.articles and parsed.bozo:
            log.warning(
                "feed yielded no articles feed=%s kind=malformed reason=%s",
                state.name,
                parsed.bozo_reason,
            )
            return self._failed(state, now, "malformed", parsed.bozo_reason or "no entries")
        if not parsed.articles:
            # A well-formed feed with no items (new, or emptied) is not failing.
            self._body_hashes[state.feed_id] = digest
            log.info("feed has no items feed=%s", state.name)
            return self._ok(
                state,
                now,
                "empty",
                result,
                etag=result.etag,
                last_modified=result.last_modified,
                ttl_minutes=parsed.ttl_minutes,
            )
        seen = set(state.seen_ids)
        articles = [self._with_language(a, state) for a in parsed.articles]
        fresh: list[Article] = []
        for article in articles:
            if article.id in seen:
                continue
            seen.add(article.id)
            fresh.append(article)
        duplicates = len(articles) - len(fresh)
        if duplicates:
            self.metrics.articles_duplicate.labels(state.name).inc(duplicates)
        if fresh:
            await self.publish(fresh)  # raises if the broker does not acknowledge
            self.metrics.articles_published.labels(state.name).inc(len(fresh))
        self._body_hashes[state.feed_id] = digest
        outcome = "malformed" if parsed.bozo else "ok"
        if parsed.bozo:
            log.info(
                "feed is malformed but yielded entries feed=%s reason=%s",
                state.name,
                parsed.bozo_reason,
            )
        log.info(
            "feed polled feed=%s new_articles=%d duplicates=%d", state.name, len(fresh), duplicates
        )
        return self._ok(
            state,
            now,
            outcome,
            result,
            etag=result.etag,
            last_modified=result.last_modified,
            new_ids=[a.id for a in fresh],
            entry_times=parsed.entry_times,
            ttl_minutes=parsed.ttl_minutes,
            published=len(fresh),
        )

    def _with_language(self, article: Article, state: FeedState) -> Article:
        if article.language is None and state.language:
            return article.model_copy(update={"language": state.language})
        return article

    def _ok(
        self,
        state: FeedState,
        now: datetime,
        outcome: str,
        result: FetchResult,
        *,
        etag: str | None,
        last_modified: str | None,
        new_ids: Sequence[str] = (),
        entry_times: Sequence[datetime] = (),
        ttl_minutes: int | None = None,
        published: int = 0,
    ) -> PollOutcome:
        """Count a successful poll under `outcome` and build its `polled` command."""
        self.metrics.feed_polls.labels(state.name, outcome).inc()
        self.metrics.feed_last_success.labels(state.name).set(now.timestamp())
        self.metrics.feed_consecutive_errors.labels(state.name).set(0)
        interval = self._interval(state, now, entry_times, result, ttl_minutes)
        command = self._command(
            state,
            "polled",
            etag=etag,
            last_modified=last_modified,
            new_ids=list(new_ids),
            next_due=now + timedelta(seconds=interval),
            interval_seconds=interval,
            newest_entry=max((t for t in entry_times if t <= now + FUTURE_TOLERANCE), default=None),
            at=now,
        )
        return PollOutcome(command, published, outcome)
