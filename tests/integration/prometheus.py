"""A real Prometheus server on 127.0.0.1 for tests, and the PromQL that deploy/ ships.

Reusable by any test::

    config = live_config("127.0.0.1:9108")  # deploy/prometheus/prometheus.yml, 1 s scrapes
    with PrometheusServer(tmp_path / "prometheus", config) as prometheus:
        series = await prometheus.query("up")

The server is Debian's `prometheus` binary (package `prometheus`, which also provides
`promtool`), run with a generated configuration and a temporary storage directory on a free
loopback port; it is stopped (SIGTERM, then SIGKILL) on exit.

The expression helpers read the dashboard and the alert rules from deploy/, turn Grafana's
variables into plain PromQL, and list the metric names an expression uses, so tests can check
every query against what newsradar really exports (`exported_sample_names`).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
import yaml
from prometheus_client import CollectorRegistry

from newsradar.broker import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
RULES_FILE = DEPLOY / "prometheus" / "rules" / "newsradar.yml"
RULES_TESTS = DEPLOY / "prometheus" / "tests" / "newsradar_test.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "newsradar.json"
JOB = "newsradar"

#: Series Prometheus makes itself for every target; the only non-newsradar names allowed.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

_PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "inf", "nan"}
)


def binary(name: str) -> str:
    """Absolute path of `prometheus` or `promtool`; fail with the package to install."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} not found: apt-get install -y prometheus")
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool with `args`; return the finished process (never raises on failure)."""
    return subprocess.run(
        [binary("promtool"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- the PromQL of deploy/ -----------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard JSON."""
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard, rows' nested panels included."""
    out: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def grafana_to_promql(expr: str, *, rate_interval: str = "1m", range_: str = "1h") -> str:
    """Replace the Grafana variables the dashboard uses with plain values ($instance: all)."""
    values = {
        "$__rate_interval": rate_interval,
        "$__interval": rate_interval,
        "$__range": range_,
        "$instance": ".*",
    }
    for name, value in values.items():
        expr = expr.replace(name, value)
    if "$" in expr:
        raise AssertionError(f"unknown Grafana variable in {expr!r}")
    return expr


def dashboard_expressions(
    *, rate_interval: str = "1m", range_: str = "1h"
) -> list[tuple[str, str]]:
    """(label, PromQL) of every query of every panel, Grafana variables replaced."""
    out = []
    for panel in dashboard_panels():
        for target in panel.get("targets", []):
            label = f"panel {panel['id']} {panel['title']!r} {target['refId']}"
            expr = grafana_to_promql(target["expr"], rate_interval=rate_interval, range_=range_)
            out.append((label, expr))
    return out


def dashboard_variable_metrics() -> set[str]:
    """Metric names the dashboard's template variables query (label_values(metric, label))."""
    names = set()
    for variable in dashboard()["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        match = re.fullmatch(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*\w+\s*\)", text)
        if match:
            names.add(match.group(1))
    return names


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of deploy/prometheus/rules/newsradar.yml."""
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # label lists
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _PROMQL_KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


# -- what newsradar exports ----------------------------------------------------------------------


def _sample_names(registry: CollectorRegistry) -> set[str]:
    """The sample names every family of `registry` can expose, with or without labels set."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("", "_count", "_sum", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    names = set()
    for family in registry.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def exported_sample_names() -> set[str]:
    """Sample names of newsradar.metrics.Metrics and Faust's monitor (prefix "faust")."""
    from faust.sensors.prometheus import FaustMetrics

    from newsradar.metrics import Metrics

    newsradar_registry = CollectorRegistry()
    Metrics(newsradar_registry)
    faust_registry = CollectorRegistry()
    FaustMetrics.create(faust_registry, "faust")
    return _sample_names(newsradar_registry) | _sample_names(faust_registry)


def families_in_exposition(text: str) -> set[str]:
    """Sample names the families of a /metrics page can expose (from its # TYPE lines)."""
    registry_types: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"# TYPE (\S+) (\S+)", line)
        if match:
            registry_types[match.group(1)] = match.group(2)
    suffixes = {
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("", "_count", "_sum"),
    }
    names = set()
    for name, kind in registry_types.items():
        if kind == "counter":  # "# TYPE x_total counter" exposes x_total (and x_created)
            names.update({name, name.removesuffix("_total") + "_created"})
        else:
            names.update(name + suffix for suffix in suffixes.get(kind, ("",)))
    return names


# -- a live server -------------------------------------------------------------------------------


def live_config(target: str, *, interval: str = "1s") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml scraping only `target` every `interval`, rules absolute."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    config["global"].update(
        scrape_interval=interval, evaluation_interval=interval, scrape_timeout=interval
    )
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / f) for f in config["rule_files"]]
    jobs = [job for job in config["scrape_configs"] if job["job_name"] == JOB]
    assert len(jobs) == 1, "deploy/prometheus/prometheus.yml must have one newsradar job"
    jobs[0]["static_configs"] = [{"targets": [target]}]
    config["scrape_configs"] = jobs
    return config


class PrometheusServer:
    """`prometheus` as a subprocess on a free loopback port with a temporary storage dir."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config = config
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Self:
        """Write the config, start the server and wait until /-/ready answers 200."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        self.port = free_port()
        log = (self.workdir / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"prometheus not ready in {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; return `data`, or raise AssertionError with Prometheus's error."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/api/v1/{path}", params=params) as response,
        ):
            body = await response.json()
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate an instant query now; return its result vector (scalars as one sample)."""
        data = await self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    async def value(self, expr: str) -> float | None:
        """The single value of an instant query, or None when it returns no series."""
        result = await self.query(expr)
        if not result:
            return None
        assert len(result) == 1, f"{expr} returned {len(result)} series"
        return float(result[0]["value"][1])
