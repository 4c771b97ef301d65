"""Configuration: loading, ${ENV} substitution, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsradar.config import load_config, parse_config
from newsradar.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_is_valid_and_uses_embedded_broker() -> None:
    """The shipped config validates, lists feeds in four languages and ships the three rules."""
    settings = load_config(REPO / "config" / "newsradar.yaml")
    assert settings.kafka.bootstrap_servers is None
    assert {f.language for f in settings.feeds} >= {"en", "fr", "de", "es"}
    assert [r.name for r in settings.rules] == [
        "microsoft-openai-deals",
        "ai-investments",
        "layoffs",
    ]
    assert settings.security.allow_private_addresses is False


def test_env_substitution_and_secret_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """${VAR} is read from the environment and a secret never shows in repr or dumps."""
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-value")
    monkeypatch.setenv("KAFKA", "k1:9092,k2:9093")
    path = write(
        tmp_path,
        "kafka: {bootstrap_servers: '${KAFKA}'}\n"
        "channels:\n"
        "  hook: {type: webhook, url: 'https://example.org/h', secret: '${HOOK_SECRET}'}\n",
    )
    settings = load_config(path)
    assert settings.kafka.bootstrap_servers == ["k1:9092", "k2:9093"]
    hook = settings.channels["hook"]
    assert hook.secret.get_secret_value() == "s3cr3t-value"  # type: ignore[union-attr]
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" not in settings.model_dump_json()


def test_env_default_applies_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${VAR:-default} falls back to the default; an empty bootstrap means embedded."""
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    settings = load_config(write(tmp_path, "kafka: {bootstrap_servers: '${NOPE_UNSET:-}'}\n"))
    assert settings.kafka.bootstrap_servers is None


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("kafka: {partitions: many}\n", "kafka.partitions", "valid integer"),
        (
            "feeds:\n  - {url: 'https://a.example/f', name: A, colour: red}\n",
            "feeds[0].colour",
            "unknown key",
        ),
        ("feeds:\n  - {name: A}\n", "feeds[0].url", "required"),
        ("feeds:\n  - {url: 'not a url', name: A}\n", "feeds[0].url", "URL"),
        ("bogus: 1\n", "bogus", "unknown key"),
        (
            "rules:\n  - {name: r, kind: deal, channels: [slack]}\nchannels: {log: {type: log}}\n",
            "rules[0].channels",
            "unknown channel 'slack'",
        ),
        (
            "rules:\n  - {name: r, kind: merger, channels: [log]}\nchannels: {log: {type: log}}\n",
            "rules[0].kind",
            "deal",
        ),
        (
            "channels: {s: {type: slack, webhook_url: '${UNSET_SLACK_URL}'}}\n",
            "channels.s.webhook_url",
            "UNSET_SLACK_URL is not set",
        ),
        ("polling: {min_interval: 100, max_interval: 10}\n", "polling", "min_interval"),
    ],
)
def test_errors_name_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, key: str, words: str
) -> None:
    """Each invalid file gives one ConfigError whose message names the file, the key and why."""
    monkeypatch.delenv("UNSET_SLACK_URL", raising=False)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert key in message
    assert words in message


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    """A missing file and unparsable YAML are reported with the path and the line."""
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match=r"invalid YAML at line \d+, column \d+"):
        load_config(write(tmp_path, "kafka:\n  partitions: [1\n"))


def test_top_level_must_be_mapping() -> None:
    """A YAML list at the top is refused with a clear message."""
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config([1, 2], "x.yaml")


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NEWSRADAR_CONFIG selects the file when no path is given."""
    path = write(tmp_path, "kafka: {partitions: 7}\n")
    monkeypatch.setenv("NEWSRADAR_CONFIG", str(path))
    assert load_config().kafka.partitions == 7
