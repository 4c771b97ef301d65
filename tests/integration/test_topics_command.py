"""`newsradar topics` and `newsradar worker` against a cluster (the session's broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from newsradar.broker import EmbeddedBroker
from newsradar.cli import cli

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_topics_are_created_once_with_the_configured_partitions(
    kafka: EmbeddedBroker, tmp_path: Path
) -> None:
    """`topics` creates every newsradar topic; a second run creates none (idempotent)."""
    config = tmp_path / "cluster.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {
                    "bootstrap_servers": kafka.bootstrap,
                    "partitions": 3,
                    "topic_prefix": "topicscmd.",
                }
            }
        )
    )
    first = runner.invoke(cli, ["topics", "--config", str(config)])
    assert first.exit_code == 0, first.output
    created = json.loads(first.output)["created"]
    assert "topicscmd.news.articles" in created and "topicscmd.news.dlq" in created
    assert len(created) == 7
    second = runner.invoke(cli, ["topics", "--config", str(config)])
    assert second.exit_code == 0 and json.loads(second.output)["created"] == []

    # The same topics with another partition count are refused, naming the fix.
    other = tmp_path / "other.yaml"
    other.write_text(
        yaml.safe_dump(
            {
                "kafka": {
                    "bootstrap_servers": kafka.bootstrap,
                    "partitions": 5,
                    "topic_prefix": "topicscmd.",
                }
            }
        )
    )
    refused = runner.invoke(cli, ["topics", "--config", str(other)])
    assert refused.exit_code == 3
    assert "has 3 partitions but kafka.partitions is 5" in refused.output


def test_worker_needs_a_cluster(tmp_path: Path) -> None:
    """`worker` without bootstrap servers exits 2 and points at `run`."""
    config = tmp_path / "none.yaml"
    config.write_text("kafka: {partitions: 2}\n")
    result = runner.invoke(cli, ["worker", "--config", str(config)])
    assert result.exit_code == 2
    assert "newsradar run" in result.output
