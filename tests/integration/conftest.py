"""Real parts for integration tests: the embedded broker, the service as a process, a consumer."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer

from newsradar.broker import EmbeddedBroker, free_port

from .feedserver import FeedServer

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def kafka() -> Iterator[EmbeddedBroker]:
    """One embedded Tansu broker for the whole session; tests isolate by app id and prefix."""
    with EmbeddedBroker() as broker:
        yield broker


class Service:
    """`newsradar run` in a subprocess, with its log captured to a file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsradar.cli", "run", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, needle: str, timeout: float = 60.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(needle) >= count:
                return
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"service exited early:\n{self.log()[-4000:]}")
            await asyncio.sleep(0.2)
        raise AssertionError(f"{needle!r} not seen x{count} in {timeout}s:\n{self.log()[-4000:]}")

    async def started(self, timeout: float = 60.0) -> Service:
        """Wait until the service created its topics (consumers must not auto-create them)."""
        await self.wait_for_log("newsradar starting", timeout=timeout)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        proc, self.process = self.process, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(timeout=timeout)


@pytest.fixture
def service_config(tmp_path: Path, kafka: EmbeddedBroker) -> Any:
    """Write a config for a service on the session broker, isolated by a unique app id."""
    run_id = uuid.uuid4().hex[:8]

    def make(feeds: list[dict[str, Any]], **overrides: Any) -> Path:
        config: dict[str, Any] = {
            "kafka": {
                "bootstrap_servers": kafka.bootstrap,
                "partitions": 2,
                "app_id": f"nr-{run_id}",
                "topic_prefix": f"t{run_id}.",
                "session_timeout": 6,
                "rebalance_timeout": 2,
            },
            "metrics": {"port": free_port()},
            "security": {"allow_private_addresses": True},
            "polling": {"min_interval": 1, "max_interval": 2, "default_interval": 2, "tick": 0.2},
            "feeds": feeds,
            "log_level": "INFO",
        }
        for key, value in overrides.items():
            config[key] = value
        path = tmp_path / f"newsradar-{run_id}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    make.run_id = run_id  # type: ignore[attr-defined]
    return make


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[Service]]:
    """Services started by a test; all stopped at the end."""
    started: list[Service] = []
    yield started
    for service in started:
        service.stop(
            signal.SIGKILL if service.process and service.process.poll() else signal.SIGTERM
        )


async def consume(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 30.0, settle: float = 0.0
) -> list[Any]:
    """Read `topic` from the start until `expect` messages arrived (then `settle` s more)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                records.extend(messages)
            if len(records) >= expect and settle_until is None:
                settle_until = time.monotonic() + settle
            if settle_until is not None and time.monotonic() >= settle_until:
                break
    finally:
        await consumer.stop()
    return records


@pytest.fixture
async def feeds(tmp_path: Path) -> AsyncIterator[FeedServer]:
    """A loopback feed server over a scratch folder the test writes feed files into."""
    root = tmp_path / "served"
    root.mkdir()
    async with FeedServer(root=root) as server:
        yield server


def publish(server: FeedServer, name: str, body: bytes) -> str:
    """Write (or replace) a served feed file; return its path on the server."""
    (server.root / name).write_bytes(body)
    return f"/feeds/{name}"


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `predicate` until it holds, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


async def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `newsradar` CLI in a subprocess, off the event loop (it runs its own loop)."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "newsradar.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
