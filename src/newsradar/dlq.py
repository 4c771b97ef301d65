"""The dead-letter topic, read back: list what failed, and re-send it once the cause is fixed.

Replaying sends each dead letter's original bytes back to the topic it came from,
so the same stage processes it again. Re-sent alerts are safe: the delivery
ledger skips any (alert, channel) already delivered. A consumer group remembers
how far replay got, so a dead letter is re-sent once, not at every replay.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from newsradar.config import Settings
from newsradar.errors import DecodeError
from newsradar.models import DeadLetter, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """How many dead letters were read, re-sent and left alone (other stages, undecodable)."""

    read: int
    resent: int
    skipped: int


def original_bytes(letter: DeadLetter) -> bytes:
    """The message exactly as it arrived (base64 copy when it was not UTF-8)."""
    if letter.original_base64 is not None:
        return base64.b64decode(letter.original_base64)
    return letter.original.encode("utf-8")


async def _drain(consumer: AIOKafkaConsumer, idle_ms: int = 1500) -> list[object]:
    """Everything currently in the assigned partitions, up to their end offsets."""
    records: list[object] = []
    partitions = consumer.assignment()
    end = await consumer.end_offsets(list(partitions))
    while True:
        batch = await consumer.getmany(timeout_ms=idle_ms)
        for messages in batch.values():
            records.extend(messages)
        positions = {tp: await consumer.position(tp) for tp in partitions}
        if all(positions[tp] >= end[tp] for tp in partitions) or not batch:
            return records


async def _consumer(settings: Settings, group: str | None) -> AIOKafkaConsumer:
    topic = settings.kafka.topic("news.dlq")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    if group is None:
        await consumer.seek_to_beginning(*tps)
    else:
        committed = {tp: await consumer.committed(tp) for tp in tps}
        for tp, offset in committed.items():
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
    return consumer


async def list_dead_letters(settings: Settings) -> list[DeadLetter]:
    """Every dead letter on the topic, oldest first per partition."""
    consumer = await _consumer(settings, group=None)
    try:
        records = await _drain(consumer)
    finally:
        await consumer.stop()
    letters: list[DeadLetter] = []
    for record in records:
        try:
            letters.append(decode(DeadLetter, record.value))  # type: ignore[attr-defined]
        except DecodeError as exc:
            log.warning("undecodable dead letter skipped: %s", exc)
    return letters


async def replay_dead_letters(settings: Settings, stages: Sequence[str]) -> ReplayOutcome:
    """Re-send the dead letters of `stages` not replayed before to their original topics."""
    group = f"{settings.kafka.app_id}-dlq-replay"
    consumer = await _consumer(settings, group=group)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers, acks="all", enable_idempotence=False
    )
    await producer.start()
    read = resent = skipped = 0
    try:
        records = await _drain(consumer)
        for record in records:
            read += 1
            try:
                letter = decode(DeadLetter, record.value)  # type: ignore[attr-defined]
            except DecodeError:
                skipped += 1
                continue
            if letter.stage not in stages:
                skipped += 1
                continue
            key = letter.key.encode("utf-8") if letter.key is not None else None
            await producer.send_and_wait(letter.topic, original_bytes(letter), key=key)
            resent += 1
            log.info(
                "re-sent dead letter stage=%s topic=%s key=%s",
                letter.stage,
                letter.topic,
                letter.key,
            )
        if records:
            await consumer.commit()  # only after every re-send was acknowledged
    finally:
        await producer.stop()
        await consumer.stop()
    return ReplayOutcome(read, resent, skipped)
