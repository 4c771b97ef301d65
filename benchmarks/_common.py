"""Helpers shared by the benchmark scripts: machine facts, load, dev texts, percentiles.

Benchmarks print figures; they never assert timings. Every script records the
machine and the load average next to its figures, because the machines they run
on are shared and noisy, and compares against a baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSRADAR_SHARED_DIR", REPO / ".." / "shared"))
DEV_FILE = SHARED / "data" / "news_dev.jsonl"

if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (other agents share the cores)."""
    return os.getloadavg()


def machine() -> dict[str, Any]:
    """CPU count and model, memory and Python version, for the figures' record."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in load_average()],
    }


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dev_texts(path: Path = DEV_FILE) -> list[dict[str, Any]]:
    """Items of the dev file, read at run time (its text never enters the repository)."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                items.append(json.loads(line))
    return items


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def emit(result: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print the figures: one JSON object with --json, else readable lines."""
    if as_json:
        print(json.dumps(result, default=str))
    else:
        for line in lines:
            print(line)
        m = result.get("machine", {})
        print(
            f"machine: nproc={m.get('nproc')} cpu={m.get('cpu')} "
            f"memory={m.get('memory_gib')} GiB python={m.get('python')} "
            f"load(start)={m.get('load_average')} load(end)={result.get('load_average_end')}"
        )
