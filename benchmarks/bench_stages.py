"""CPU per article of each step the pipeline's agents run, without Kafka: where the time goes.

Runs the agents' pure steps in one process, in order, over the dev file's texts
repeated (unique ids and URLs; each repetition dated 40 days earlier, as in
bench_pipeline), keeping event books as JSON bytes the way the Faust table does,
and times each step with `time.process_time`. The sum is the CPU an article costs
newsradar's own code; bench_pipeline's "worker CPU per article" minus this sum is
what Faust, aiokafka and the event loop cost.

    python benchmarks/bench_stages.py [--json] [--quick] [--repeat N] [--experiment NAME]

`--experiment NAME` monkeypatches a proposed change (benchmarks/experiments.py) and
prints the same table again for it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import dev_texts, emit, load_average, machine
from bench_pipeline import BASE_PUBLISHED, ROUND_DAYS, RULES
from experiments import EXPERIMENTS
from experiments import apply as apply_experiments
from experiments import check as check_experiment


def run_stages(repeat: int) -> dict[str, Any]:
    """Time every step over `repeat` repetitions of the dev file; microseconds per article."""
    from newsradar.alerts.rules import apply_and_decide
    from newsradar.config import parse_config
    from newsradar.events import EventBook, Report, reports_from
    from newsradar.fingerprint import FingerprintIndex, enrich
    from newsradar.models import Alert, Article, Enriched, decode, utcnow
    from newsradar.nlp.analyze import analyze

    settings = parse_config(
        {
            "feeds": [],
            "rules": RULES,
            "channels": {"log": {"type": "log"}},
            "events": {"window_days": 30},
        }
    )
    items = dev_texts()
    raw_articles = []
    for n in range(repeat * len(items)):
        item = items[n % len(items)]
        url = f"https://bench.example/stages/{n}"
        raw_articles.append(
            Article(
                id=hashlib.blake2b(url.encode(), digest_size=16).hexdigest(),
                feed_id="bench",
                feed_url="https://bench.example/feed",
                source=item.get("source") or "bench",
                url=url,
                title=item.get("title") or "",
                summary=item.get("summary") or "",
                published=BASE_PUBLISHED
                - timedelta(days=ROUND_DAYS * (n // len(items)))
                + timedelta(seconds=n % len(items)),
                fetched=utcnow(),
            ).to_bytes()
        )
    for item in items:  # first call per language builds matchers: not per-article cost
        analyze(item.get("title") or "", item.get("summary") or "")

    spent: dict[str, float] = defaultdict(float)
    clock = time.process_time
    index = FingerprintIndex()
    books: dict[str, bytes] = {}
    counts = {"articles": len(raw_articles), "reports": 0, "alerts": 0, "book_bytes_max": 0}
    for raw in raw_articles:
        t0 = clock()
        article = decode(Article, raw)
        t1 = clock()
        published = article.published.date().isoformat() if article.published else None
        analysis = analyze(article.title, article.summary, published=published)
        t2 = clock()
        enriched = enrich(article, analysis, index)
        t3 = clock()
        enriched_bytes = enriched.to_bytes()
        t4 = clock()
        reports = [r.to_bytes() for r in reports_from(enriched)]
        t5 = clock()
        spent["decode Article"] += t1 - t0
        spent["analyze"] += t2 - t1
        spent["enrich (fingerprint, index)"] += t3 - t2
        spent["encode Enriched"] += t4 - t3
        spent["reports_from + encode"] += t5 - t4
        counts["enriched_bytes"] = counts.get("enriched_bytes", 0) + len(enriched_bytes)
        t6 = clock()
        decode(Enriched, enriched_bytes)  # what a consumer of news.enriched pays
        spent["(decode Enriched, if read back)"] += clock() - t6
        for report_bytes in reports:
            counts["reports"] += 1
            t0 = clock()
            report = decode(Report, report_bytes)
            raw_book = books.get(report.key)
            book = decode(EventBook, raw_book) if raw_book is not None else None
            t1 = clock()
            new_book, state, alerts = apply_and_decide(
                book, report, settings.events, settings.rules
            )
            t2 = clock()
            books[report.key] = book_bytes = new_book.to_bytes()
            event_bytes = state.to_bytes()
            alert_bytes = [a.to_bytes() for a in alerts]
            t3 = clock()
            for a in alert_bytes:
                decode(Alert, a)
            t4 = clock()
            spent["decode Report + EventBook"] += t1 - t0
            spent["apply_and_decide"] += t2 - t1
            spent["encode EventBook + Event + Alerts"] += t3 - t2
            spent["decode Alert (deliver)"] += t4 - t3
            counts["alerts"] += len(alerts)
            counts["book_bytes_max"] = max(counts["book_bytes_max"], len(book_bytes))
            del event_bytes
    n = len(raw_articles)
    per_article = {k: round(v / n * 1e6, 1) for k, v in spent.items()}
    total = sum(v for k, v in per_article.items() if not k.startswith("("))
    return {
        "articles": n,
        "reports": counts["reports"],
        "alerts": counts["alerts"],
        "largest_event_book_bytes": counts["book_bytes_max"],
        "us_per_article": per_article,
        "total_us_per_article": round(total, 1),
        "articles_per_second_one_core": round(1e6 / total, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options, time the steps, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repetitions")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--experiment", action="append", choices=sorted(EXPERIMENTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 3
    result: dict[str, Any] = {"machine": machine(), "current": run_stages(args.repeat)}
    if args.experiment:
        texts = [f"{i.get('title') or ''}\n{i.get('summary') or ''}" for i in dev_texts()]
        for name in args.experiment:
            if not check_experiment(name, texts):
                parser.error(f"experiment {name} changes results on the dev file")
        apply_experiments(args.experiment)
        result["experiment"] = {"names": args.experiment, **run_stages(args.repeat)}
    result["load_average_end"] = [round(x, 2) for x in load_average()]
    lines = []
    for label, figures in (
        ("current code", result["current"]),
        ("EXPERIMENT", result.get("experiment")),
    ):
        if not figures:
            continue
        if label == "EXPERIMENT":
            label = f"EXPERIMENT {'+'.join(figures['names'])} (monkeypatched, not in src/)"
        lines.append(
            f"{label}: {figures['articles']} articles, {figures['reports']} reports, "
            f"{figures['alerts']} alerts; CPU per article (us):"
        )
        for step, us in figures["us_per_article"].items():
            lines.append(f"  {step:<36} {us:>8.1f}")
        lines.append(
            f"  {'total (without the bracketed line)':<36} {figures['total_us_per_article']:>8.1f}"
            f"  -> {figures['articles_per_second_one_core']:.0f} articles/s on one core"
        )
    emit(result, args.json, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
