"""The deployment files: Prometheus config and rules (promtool), the Grafana dashboard's PromQL,
provisioning, docker-compose.yml, the Dockerfile and the compose configuration of newsradar.

No Docker engine runs here: compose is checked structurally (YAML, services, mounts that point
at files of the repository, variables documented in .env.example).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from newsradar.config import load_config

from .prometheus import (
    DASHBOARD,
    DEPLOY,
    PROMETHEUS_CONFIG,
    PROMETHEUS_SERIES,
    REPO,
    RULES_FILE,
    RULES_TESTS,
    alert_rules,
    dashboard,
    dashboard_expressions,
    dashboard_panels,
    dashboard_variable_metrics,
    exported_sample_names,
    metric_names,
    promtool,
)

COMPOSE = REPO / "docker-compose.yml"
COMPOSE_CONFIG = DEPLOY / "newsradar.compose.yaml"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "newsradar.yml"
ENV_EXAMPLE = REPO / ".env.example"
WORKERS = ("worker-1", "worker-2")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host path, container path) of a service's bind mounts (named volumes left out)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


# -- Prometheus ----------------------------------------------------------------------------------


def test_prometheus_config_passes_promtool() -> None:
    """promtool accepts deploy/prometheus/prometheus.yml and the rule files it names."""
    result = promtool("check", "config", PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_alert_rules_pass_promtool() -> None:
    """promtool accepts every alert rule (PromQL parses, templates compile)."""
    result = promtool("check", "rules", RULES_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_alert_rules_unit_tests_pass() -> None:
    """Each alert fires on the series meant to trigger it, after its delay, and not otherwise."""
    result = promtool("test", "rules", RULES_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r'alertname="(\w+)"', RULES_TESTS.read_text(encoding="utf-8")))
    assert tested == {rule["alert"] for rule in alert_rules()}


def test_promtool_rejects_broken_promql(tmp_path: Path) -> None:
    """The PromQL checks below can fail: promtool refuses an unbalanced expression."""
    broken = tmp_path / "broken.yml"
    record = {"record": "x:y", "expr": "sum(rate(newsradar_feed_polls_total[5m])"}
    broken.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [record]}]}))
    assert promtool("check", "rules", broken).returncode != 0


def test_alerts_cover_the_issue_and_carry_severity_and_runbook() -> None:
    """The required alerts exist, each with a severity, a summary, a description and a runbook."""
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    assert {
        "NewsradarFeedFailing",
        "NewsradarNoArticles",
        "NewsradarDeadLettersGrowing",
        "NewsradarConsumerLagGrowing",
        "NewsradarDeliveryFailures",
        "NewsradarAlertLatencyOverBudget",
    } <= names
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        for key in ("summary", "description", "runbook"):
            assert len(rule["annotations"].get(key, "").strip()) > 20, (rule["alert"], key)
    assert "1800" in str(rules) or "30m" in str(rules)  # feeds failing for 30 minutes
    latency = next(r for r in rules if r["alert"] == "NewsradarAlertLatencyOverBudget")
    assert "newsradar_fetch_to_delivery_seconds_bucket" in latency["expr"]
    assert "> 60" in latency["expr"]


def test_every_alert_is_explained_in_operations_doc() -> None:
    """docs/OPERATIONS.md says what each alert means and what to do, by name."""
    text = (REPO / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    missing = [rule["alert"] for rule in alert_rules() if rule["alert"] not in text]
    assert not missing


# -- Grafana -------------------------------------------------------------------------------------


def test_dashboard_expressions_pass_promtool(tmp_path: Path) -> None:
    """Every query of every dashboard panel is valid PromQL (checked as recording rules)."""
    expressions = dashboard_expressions()
    assert len(expressions) >= 30
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(expressions)
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_every_metric_used_is_exported() -> None:
    """Each metric the dashboard and the alerts use is defined in newsradar.metrics or Faust's
    monitor (prefix faust), or is Prometheus's own `up`."""
    exported = exported_sample_names()
    used: dict[str, str] = {}
    for label, expr in dashboard_expressions():
        used.update({name: label for name in metric_names(expr)})
    for rule in alert_rules():
        used.update({name: rule["alert"] for name in metric_names(rule["expr"])})
    used.update({name: "template variable" for name in dashboard_variable_metrics()})
    unknown = {name: where for name, where in used.items() if name not in exported}
    assert set(unknown) <= PROMETHEUS_SERIES, unknown
    assert "newsradar_articles_analyzed_total" in used  # articles by language
    assert "newsradar_event_organizations_total" in used  # top organisations
    assert "newsradar_deal_amount_usd_bucket" in used  # deal amounts
    assert {"faust_topic_partition_end_offset", "faust_topic_partition_offset_commited"} <= set(
        used
    )  # consumer lag


def test_metric_names_reads_selectors_not_functions_or_labels() -> None:
    """The name extraction the check above relies on finds metrics and nothing else."""
    expr = (
        'sum by (feed, le) (rate(newsradar_feed_polls_total{outcome=~"ok|x(y)"}[5m])) > 0 '
        "and on () deriv((a_metric - b_metric)[10m:1m]) or vector(0)"
    )
    assert metric_names(expr) == {"newsradar_feed_polls_total", "a_metric", "b_metric"}


def test_dashboard_panels_are_well_formed() -> None:
    """Unique panel ids, every query on the provisioned datasource, panels inside the grid."""
    board = dashboard()
    uid = load_yaml(DATASOURCES)["datasources"][0]["uid"]
    panels = dashboard_panels()
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], panel["title"]
        assert panel.get("description"), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, panel["title"]
    rows = [panel["title"] for panel in panels if panel["type"] == "row"]
    assert rows == [
        "Pipeline health",
        "Streaming (Kafka and Faust)",
        "Intelligence",
        "Alerts and delivery",
    ]
    assert board["uid"] == "newsradar"
    assert board["templating"]["list"][0]["datasource"]["uid"] == uid


def test_grafana_provisioning_points_at_compose_services_and_mounted_files() -> None:
    """The datasource URL is the compose Prometheus; the dashboard provider reads a directory that
    compose mounts from deploy/grafana/dashboards, which holds the dashboard."""
    services = compose()["services"]
    datasource = load_yaml(DATASOURCES)["datasources"][0]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in services
    providers = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    path = providers[0]["options"]["path"]
    mounts = dict((target, source) for source, target in bind_mounts(services["grafana"]))
    assert path in mounts, f"{path} is not mounted into grafana"
    assert (REPO / mounts[path] / DASHBOARD.name).is_file()
    for target in ("/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"):
        assert (REPO / mounts[target]).is_dir()
    assert (REPO / mounts["/etc/grafana/provisioning/datasources"] / DATASOURCES.name).is_file()


# -- docker compose ------------------------------------------------------------------------------


def test_compose_services_and_mounts_exist() -> None:
    """Kafka in KRaft mode, two newsradar workers, Prometheus and Grafana; every bind mount and
    the build context point at files of this repository."""
    services = compose()["services"]
    assert set(services) == {"kafka", *WORKERS, "prometheus", "grafana"}
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    for name in WORKERS:
        worker = services[name]
        assert worker["command"][0] == "worker"
        assert worker["environment"]["NEWSRADAR_KAFKA"] == "kafka:9092"
        assert worker["build"] == "." and (REPO / "Dockerfile").is_file()
        config_target = worker["command"][worker["command"].index("--config") + 1]
        assert config_target in {target for _, target in bind_mounts(worker)}
    for name, service in services.items():
        for source, _ in bind_mounts(service):
            assert (REPO / source).exists(), f"{name} mounts missing {source}"
    prometheus_mounts = dict(bind_mounts(services["prometheus"]))
    assert (
        prometheus_mounts["./deploy/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    )
    assert prometheus_mounts["./deploy/prometheus/rules"] == "/etc/prometheus/rules"


def test_prometheus_scrapes_every_compose_worker_on_its_metrics_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scrape targets are exactly the compose workers, on metrics.port of their config."""
    for key, value in env_example().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEWSRADAR_KAFKA", "kafka:9092")
    port = load_config(COMPOSE_CONFIG).metrics.port
    job = next(
        j for j in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"] if j["job_name"] == "newsradar"
    )
    targets = [t for static in job["static_configs"] for t in static["targets"]]
    assert sorted(targets) == [f"{name}:{port}" for name in WORKERS]
    assert job.get("metrics_path", "/metrics") == "/metrics"


def test_compose_variables_are_documented_in_env_example() -> None:
    """Every ${VAR} docker-compose.yml needs without a default is in .env.example, and the
    workers get the secrets their configuration reads."""
    text = COMPOSE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+)(?::\?[^}]*)?\}", text))
    documented = set(env_example())
    assert required <= documented, required - documented
    config_vars = set(re.findall(r"\$\{(\w+)", COMPOSE_CONFIG.read_text(encoding="utf-8")))
    for name in WORKERS:
        assert config_vars <= set(compose()["services"][name]["environment"])


def test_compose_newsradar_config_is_valid_and_matches_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deploy/newsradar.compose.yaml loads with the .env.example values: Kafka from the
    environment, /metrics on all interfaces, secrets as SecretStr, the default feeds and rules."""
    for key, value in env_example().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEWSRADAR_KAFKA", "kafka:9092")
    settings = load_config(COMPOSE_CONFIG)
    assert settings.kafka.bootstrap_servers == ["kafka:9092"]
    assert settings.metrics.host == "0.0.0.0"
    assert settings.metrics.port == 9108
    slack = settings.channels["slack"]
    assert isinstance(getattr(slack, "webhook_url", None), SecretStr)
    assert env_example()["SLACK_WEBHOOK_URL"] not in repr(settings)
    monkeypatch.setenv("NEWSRADAR_KAFKA", "")
    default = load_config(REPO / "config" / "newsradar.yaml")
    assert settings.feeds == default.feeds
    assert [(r.name, r.kind) for r in settings.rules] == [(r.name, r.kind) for r in default.rules]


def test_dockerfile_runs_a_non_root_worker_with_a_healthcheck() -> None:
    """python:3.11-slim, `pip install .`, a non-root USER, a HEALTHCHECK on /healthz."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^\s*(?:RUN |&& )pip install \.", text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.MULTILINE)
    for source in re.findall(r"^COPY\s+(\S+)\s", text, re.MULTILINE):
        assert (REPO / source).exists(), source
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored and ".git" in ignored


def test_env_file_is_never_committed() -> None:
    """.gitignore lists .env, so filled-in secrets stay out of the repository."""
    lines = {line.strip() for line in (REPO / ".gitignore").read_text().splitlines()}
    assert lines & {".env", "/.env"}
