"""EXPERIMENTS: proposed changes to src/, applied by monkeypatching inside benchmark runs only.

Nothing here is used by newsradar itself. Each experiment is a candidate change a
profile pointed at; a benchmark started with `--experiment NAME` applies it in its
own process (or its worker process) so the effect can be measured against the
code as it is, in the same run. An experiment must give the same results as the
code it replaces: `check(name)` verifies that on the dev file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

_FIXED = datetime(2026, 11, 26, tzinfo=UTC)
_BIT_TABLES = [bytes((value >> k) & 1 for value in range(256)) for k in range(8)]


def simhash_columns(text: str) -> int:
    """`newsradar.fingerprint.simhash`, bit for bit, counting bits per column in C.

    The current code loops over 64 bits in Python for every 4-gram (about 300
    4-grams x 64 bits per summary). Here the 8-byte digests are joined into one
    bytes object; for each byte position, a stride slice is that column, and
    `translate` + `count` gives how many digests have bit k set: 64 C-level
    passes in all, whatever the text length.
    """
    from newsradar.fingerprint import _features, normalise

    features = _features(normalise(text))
    count = len(features)
    if not count:
        return 0
    blake = hashlib.blake2b
    digests = b"".join([blake(f.encode("utf-8"), digest_size=8).digest() for f in features])
    value = 0
    for byte in range(8):
        column = digests[byte::8]
        shift = (7 - byte) * 8  # int.from_bytes(..., "big"): the last byte holds bits 0..7
        for k in range(8):
            if 2 * column.translate(_BIT_TABLES[k]).count(1) > count:
                value |= 1 << (shift + k)
    return value


def _apply_fast_simhash() -> None:
    import newsradar.fingerprint as module

    module.simhash = simhash_columns


def _check_fast_simhash(texts: list[str]) -> bool:
    from newsradar.fingerprint import simhash

    return all(simhash(t) == simhash_columns(t) for t in texts)


def _apply_no_faust_sensor() -> None:
    """Not a proposal as such: measures what Faust's Prometheus sensor costs per message."""
    import newsradar.app as module

    module.setup_prometheus_sensors = lambda *args, **kwargs: None  # type: ignore[assignment]


def _apply_producer_linger() -> None:
    """Faust's producer waits up to 5 ms to batch messages (`producer_linger=0.005`).

    Faust's default linger is 0: every send leaves as soon as the sender is idle, so
    the worker pays a produce request for few messages. Proposed as a Pipeline
    setting (faust.App(..., producer_linger=...)).
    """
    import faust

    original = faust.App

    class LingeringApp(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("producer_linger", 0.005)
            super().__init__(*args, **kwargs)

    faust.App = LingeringApp  # type: ignore[misc]


class _FeedparserWithoutBase:
    """feedparser, but `parse` is not given the Content-Location response header."""

    def __init__(self, module: object) -> None:
        self._module = module

    def __getattr__(self, name: str) -> object:
        return getattr(self._module, name)

    def parse(self, *args: object, **kwargs: object) -> object:
        headers = kwargs.get("response_headers")
        if isinstance(headers, dict):
            kwargs["response_headers"] = {
                k: v for k, v in headers.items() if k.lower() != "content-location"
            }
        return self._module.parse(*args, **kwargs)  # type: ignore[attr-defined]


def _apply_no_content_location() -> None:
    """`parse_feed` stops passing the feed URL to feedparser as Content-Location.

    With it, feedparser resolves every URI-bearing element against that base
    (2.4 of 8.9 ms per 50-item feed here). `parse_feed` already makes entry links
    absolute against the feed URL itself (`_http_link`), and articles carry text
    only, so the base is not needed.
    """
    import newsradar.ingest.parse as module

    if not isinstance(module.feedparser, _FeedparserWithoutBase):
        module.feedparser = _FeedparserWithoutBase(module.feedparser)  # type: ignore[assignment]


def _check_no_content_location(texts: list[str]) -> bool:
    """Same articles (GUIDs aside) from every feed file under tests/data/feeds, with and without."""
    from pathlib import Path

    import newsradar.ingest.parse as module

    root = Path(__file__).resolve().parents[1] / "tests" / "data" / "feeds"
    original = module.feedparser

    def articles() -> list[object]:
        out: list[object] = []
        for path in sorted(root.rglob("*.xml")):
            try:
                parsed = module.parse_feed(
                    path.read_bytes(),
                    feed_url=f"https://example.org/{path.name}",
                    feed_id="f",
                    source="s",
                    content_type="application/xml",
                    fetched=_FIXED,
                )
            except Exception as exc:
                out.append(type(exc).__name__)
                continue
            # A relative GUID is no longer made absolute against the feed URL (one file
            # of the corpus has one); the articles are compared without it.
            out.append([a.model_dump(exclude={"fetched", "guid"}) for a in parsed.articles])
        return out

    try:
        module.feedparser = original
        before = articles()
        _apply_no_content_location()
        after = articles()
    finally:
        module.feedparser = original
    return before == after


_PROCESS_POOL: object = None


def _parse_in_process_pool(*args: object, **kwargs: object) -> object:
    """Run the real parse_feed in a 2-process pool; the calling executor thread just waits."""
    global _PROCESS_POOL
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from newsradar.ingest.parse import parse_feed

    if _PROCESS_POOL is None:
        _PROCESS_POOL = ProcessPoolExecutor(max_workers=2)
    return _PROCESS_POOL.submit(partial(parse_feed, *args, **kwargs)).result()  # type: ignore[attr-defined]


def _apply_parse_processes() -> None:
    """Feeds are parsed in 2 worker processes instead of 2 threads sharing the GIL.

    The Poller already takes any Executor; the change is to pass it a picklable
    call (`functools.partial(parse_feed, ...)` instead of a lambda) and give it a
    ProcessPoolExecutor, so parsing uses the other cores. Measured here by routing
    the thread pool's calls to a process pool.
    """
    import newsradar.ingest.poller as module

    module.parse_feed = _parse_in_process_pool  # type: ignore[assignment]


def _apply_cache_cue_words() -> None:
    """`lexicon.own_cue_words` memoised with `functools.cache`, like its neighbours.

    It rebuilds a frozenset from every cue phrase of the language on each call, and
    `entities._is_cue_word` calls it for every candidate name (since 2179e66).
    """
    import functools

    import newsradar.nlp.entities as entities
    import newsradar.nlp.language as language
    import newsradar.nlp.lexicon as lexicon

    cached = functools.cache(lexicon.own_cue_words)
    for module in (lexicon, entities, language):
        module.own_cue_words = cached  # type: ignore[attr-defined]


def _check_cache_cue_words(texts: list[str]) -> bool:
    """Same analysis of every dev text with and without the cache."""
    import newsradar.nlp.entities as entities
    import newsradar.nlp.language as language
    import newsradar.nlp.lexicon as lexicon
    from newsradar.nlp.analyze import analyze

    originals = (lexicon.own_cue_words, entities.own_cue_words, language.own_cue_words)
    before = [analyze(t).model_dump() for t in texts]
    try:
        _apply_cache_cue_words()
        after = [analyze(t).model_dump() for t in texts]
    finally:
        lexicon.own_cue_words, entities.own_cue_words, language.own_cue_words = originals
    return before == after


def _apply_small_books() -> None:
    """Event books capped at 2 events (changelog values stay small), to measure what the
    size of the events table's changelog writes costs. In bench_pipeline every
    repetition of the dev file is 40 days after the last, beyond the 30-day window, so
    older events are never matched again and the decisions are the same."""
    import newsradar.events as events

    events.MAX_EVENTS_PER_KEY = 2


EXPERIMENTS: dict[str, tuple[Callable[[], None], Callable[[list[str]], bool]]] = {
    "fast-simhash": (_apply_fast_simhash, _check_fast_simhash),
    # Metrics only: analysis results cannot change.
    "no-faust-sensor": (_apply_no_faust_sensor, lambda texts: True),
    # Transport only: analysis results cannot change.
    "producer-linger": (_apply_producer_linger, lambda texts: True),
    "no-content-location": (_apply_no_content_location, _check_no_content_location),
    # The same function in another process: results cannot change.
    "parse-processes": (_apply_parse_processes, lambda texts: True),
    "cache-cue-words": (_apply_cache_cue_words, _check_cache_cue_words),
    # Table values only: bench_pipeline's events never match an evicted one.
    "small-books": (_apply_small_books, lambda texts: True),
}


def apply(names: list[str]) -> None:
    """Monkeypatch the named experiments into this process."""
    for name in names:
        EXPERIMENTS[name][0]()


def check(name: str, texts: list[str]) -> bool:
    """Whether experiment `name` gives the same results as the current code on `texts`."""
    return EXPERIMENTS[name][1](texts)
