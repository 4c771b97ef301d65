"""Settings: frozen pydantic models loaded from one YAML file, secrets from the environment.

`load_config(path)` is the only way in: it reads YAML, replaces `${VAR}` (or
`${VAR:-default}`) in string values from the environment, validates, and raises
`ConfigError` naming the file, the key and the problem. Secrets are `SecretStr`,
so they never show up in reprs, logs or dumps.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from newsradar.errors import ConfigError

ENV_CONFIG = "NEWSRADAR_CONFIG"
DEFAULT_CONFIG = Path("config/newsradar.yaml")

TOPIC_NAMES = ("news.articles", "news.enriched", "news.events", "news.alerts", "news.dlq")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Frozen):
    """Where Kafka is; no bootstrap servers means: start the embedded in-memory broker."""

    bootstrap_servers: list[str] | None = None
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    app_id: str = Field(default="newsradar", pattern=r"^[A-Za-z0-9._-]+$")
    topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$")
    session_timeout: float | None = Field(
        default=None, gt=0, description="seconds; null: 60 on Kafka, 6 on the embedded broker"
    )
    fetch_max_wait_ms: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="cap on a consumer fetch's wait; null: 50 on the embedded broker, else Faust's",
    )
    rebalance_timeout: float | None = Field(
        default=None, gt=0, description="seconds; null: 60 on Kafka, 2 on the embedded broker"
    )

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()] or None
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port(cls, value: list[str] | None) -> list[str] | None:
        for server in value or []:
            host = server.removeprefix("kafka://")
            if not re.fullmatch(r"[A-Za-z0-9._\-\[\]:]+:\d{1,5}", host):
                raise ValueError(f"expected host:port, got {server!r}")
        return value

    def topic(self, name: str) -> str:
        """The real topic name for one of TOPIC_NAMES (prefix applied)."""
        return f"{self.topic_prefix}{name}"


class FeedSettings(_Frozen):
    """One feed to poll."""

    url: HttpUrl
    name: str = Field(min_length=1)
    interval: int | None = Field(default=None, ge=10, description="seconds; adaptive when absent")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")


class PollingSettings(_Frozen):
    """How feeds are fetched: bounds, limits and politeness."""

    min_interval: int = Field(default=60, ge=1)
    max_interval: int = Field(default=3600, ge=1)
    default_interval: int = Field(default=600, ge=1)
    connect_timeout: float = Field(default=10.0, gt=0)
    timeout: float = Field(default=30.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    per_host_concurrency: int = Field(default=2, ge=1)
    concurrency: int = Field(default=50, ge=1)
    max_errors_backoff: int = Field(default=6 * 3600, ge=1, description="seconds, backoff cap")
    seen_ids_per_feed: int = Field(
        default=200, ge=10, description="ids remembered per feed; twice the largest feed suffices"
    )
    parse_processes: int = Field(
        default=2, ge=0, le=64, description="processes parsing feeds; 0: a thread pool instead"
    )
    tick: float = Field(default=1.0, gt=0, description="seconds between due-feed scans")

    @model_validator(mode="after")
    def _bounds(self) -> PollingSettings:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval must not exceed max_interval")
        return self


class SecuritySettings(_Frozen):
    """Guards against feeds that point inside the network."""

    allow_private_addresses: bool = False


class MetricsSettings(_Frozen):
    """Where /metrics, /healthz and /readyz are served."""

    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535)


class EventSettings(_Frozen):
    """How reports are grouped into events."""

    window_days: float = Field(default=30.0, gt=0)
    amount_tolerance: float = Field(default=0.1, ge=0, le=1)


class LogChannel(_Frozen):
    """Print alerts to the service log."""

    type: Literal["log"]


class SlackChannel(_Frozen):
    """Post alerts to a Slack incoming webhook."""

    type: Literal["slack"]
    webhook_url: SecretStr


class WebhookChannel(_Frozen):
    """POST signed JSON (Standard Webhooks) to a URL."""

    type: Literal["webhook"]
    url: HttpUrl
    secret: SecretStr


Channel = Annotated[LogChannel | SlackChannel | WebhookChannel, Field(discriminator="type")]


class DeliverySettings(_Frozen):
    """How hard and how fast alerts are delivered (frozen; fit for a `delivery:` config key)."""

    max_attempts: int = Field(default=5, ge=1, le=20)
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=30.0, gt=0, description="cap of one backoff step")
    max_total_delay_seconds: float = Field(
        default=60.0, ge=0, description="waiting between the attempts of one message, in all"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="per attempt")
    rate_per_second: dict[str, float] = Field(
        default_factory=lambda: {"slack": 1.0, "webhook": 10.0},
        description="token-bucket rate per channel type; absent or 0: unlimited",
    )
    burst: dict[str, int] = Field(
        default_factory=lambda: {"slack": 1, "webhook": 10},
        description="token-bucket capacity per channel type (default 1)",
    )
    digest_interval_seconds: float = Field(
        default=10.0,
        ge=0,
        description="updates of one event within this window are sent as one message; 0: off. "
        "An update's delivery waits for its window, and the alerts partition with it",
    )
    digest_max_alerts: int = Field(default=20, ge=1)


class RuleSettings(_Frozen):
    """Which events deserve an alert, and where it goes."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    kind: Literal["deal", "layoff"]
    parties_all: list[str] = Field(default_factory=list)
    parties_any: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    min_amount_usd: float | None = Field(default=None, ge=0)
    min_headcount: int | None = Field(default=None, ge=0)
    min_sources: int = Field(default=1, ge=1)
    on_update: bool = False
    channels: list[str] = Field(min_length=1)


class Settings(_Frozen):
    """The whole configuration of a newsradar process."""

    kafka: KafkaSettings = KafkaSettings()
    feeds: list[FeedSettings] = Field(default_factory=list)
    polling: PollingSettings = PollingSettings()
    security: SecuritySettings = SecuritySettings()
    metrics: MetricsSettings = MetricsSettings()
    events: EventSettings = EventSettings()
    rules: list[RuleSettings] = Field(default_factory=list)
    channels: dict[str, Channel] = Field(default_factory=dict)
    delivery: DeliverySettings = DeliverySettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique, repeated: {duplicates}")
        for index, rule in enumerate(self.rules):
            for channel in rule.channels:
                if channel not in self.channels:
                    known = sorted(self.channels) or "none defined"
                    raise _KeyedError(
                        f"rules[{index}].channels",
                        f"rule {rule.name!r} names unknown channel {channel!r} (known: {known})",
                    )
        urls = [str(feed.url) for feed in self.feeds]
        repeated = sorted({u for u in urls if urls.count(u) > 1})
        if repeated:
            raise _KeyedError("feeds", f"feed URLs must be unique, repeated: {repeated}")
        return self


class _KeyedError(ValueError):
    """A cross-field problem that knows which key it belongs to."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _substitute(node: Any, path: str, key: str) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string of the YAML tree."""
    if isinstance(node, dict):
        return {k: _substitute(v, path, f"{key}.{k}" if key else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, path, f"{key}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = os.environ.get(name)
            if value is None:
                if default is None:
                    raise ConfigError(path, key, f"environment variable {name} is not set")
                return default
            return value

        return _ENV_PATTERN.sub(replace, node)
    return node


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"LogChannel", "SlackChannel", "WebhookChannel", "log", "slack", "webhook"}:
            continue  # discriminated-union tags are noise in a key path
        else:
            out += f".{part}" if out else str(part)
    return out


def _shown(key: str, value: Any) -> str:
    """What an error message may say about a wrong value: never a channel's values (they hold
    secrets, possibly substituted from the environment), never a whole mapping or list."""
    if key.startswith("channels") or isinstance(value, dict | list):
        return f"got a {type(value).__name__}"
    return f"got {repr(value)[:80]}"


def parse_config(data: Any, path: str = "<config>") -> Settings:
    """Validate an already-loaded YAML tree; errors name `path` and the key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, None, f"expected a mapping at the top, got {type(data).__name__}")
    data = _substitute(data, path, "")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            ctx_error = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_error, _KeyedError):
                problems.append((ctx_error.key, ctx_error.problem))
                continue
            key = _loc(tuple(err["loc"]))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif "input" in err:
                msg = f"{msg} ({_shown(key, err['input'])})"
            problems.append((key, msg))
        first_key, first_msg = problems[0]
        extra = "".join(f"\n  {path}: {k}: {m}" for k, m in problems[1:])
        raise ConfigError(path, first_key or None, first_msg + extra) from exc


def resolve_config_path(path: str | Path | None) -> Path:
    """The config file to use: the argument, else $NEWSRADAR_CONFIG, else the default file."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    return DEFAULT_CONFIG


def load_config(path: str | Path | None = None) -> Settings:
    """Read, substitute and validate a config file; raise ConfigError naming file and key."""
    resolved = resolve_config_path(path)
    shown = str(resolved)
    try:
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(shown, None, "file not found") from exc
    except OSError as exc:
        raise ConfigError(shown, None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(shown, None, f"invalid YAML{where}: {problem}") from exc
    return parse_config(data, shown)
