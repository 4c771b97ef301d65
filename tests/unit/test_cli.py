"""The `newsradar` command line: config validation, eval gate and replay, run in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsradar.cli import cli

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSRADAR_SHARED_DIR", REPO.parent / "shared"))
runner = CliRunner()


def test_check_config_accepts_the_default_file() -> None:
    """check-config on the shipped file exits 0 and summarises it."""
    result = runner.invoke(cli, ["check-config", str(REPO / "config" / "newsradar.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "3 rules" in result.output


def test_check_config_names_file_and_key(tmp_path: Path) -> None:
    """A wrong key exits 2 and the message names the file and the key."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - {url: 'https://a.example/f', name: A, interval: soon}\n")
    result = runner.invoke(cli, ["check-config", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: feeds[0].interval" in result.output


def test_run_refuses_invalid_config_before_starting_anything(tmp_path: Path) -> None:
    """`run` validates first: a rule naming an unknown channel exits 2, no broker started."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: r, kind: deal, channels: [nowhere]}\n")
    result = runner.invoke(cli, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "rules[0].channels" in result.output and "nowhere" in result.output
    assert "embedded Kafka broker" not in result.output


def test_eval_gate_fails_below_floor_and_passes_above() -> None:
    """eval exits 1 when a floor is above the achieved score and 0 when below it."""
    dev = SHARED / "data" / "news_dev.jsonl"
    ok = runner.invoke(cli, ["eval", str(dev), "--json", "--min-f1", "0.5"])
    assert ok.exit_code == 0, ok.output
    figures = json.loads(ok.output)
    assert figures["items"] == sum(1 for line in dev.open(encoding="utf-8") if line.strip())
    impossible = runner.invoke(cli, ["eval", str(dev), "--min-f1", "1.01"])
    assert impossible.exit_code == 1
    assert "below the floor" in impossible.output


def test_replay_seed_article_prints_json_decisions(tmp_path: Path) -> None:
    """replay --json of the seed article prints the deal and layoff decisions, nothing for 2019."""
    seed = (SHARED / "data" / "seed_article.txt").read_text(encoding="utf-8")
    item = {
        "id": "seed",
        "title": "Microsoft va investir 10 milliards de dollars dans OpenAI",
        "summary": seed,
        "published": "2023-01-23",
        "source": "seed",
    }
    path = tmp_path / "seed.jsonl"
    path.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["replay", str(path), "--json", "--config", str(REPO / "config" / "newsradar.yaml")]
    )
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    rules = sorted(d["rule"] for d in decisions)
    assert rules == ["ai-investments", "layoffs", "microsoft-openai-deals"]
    deal = next(d for d in decisions if d["rule"] == "microsoft-openai-deals")
    assert deal["amount_usd"] == pytest.approx(1e10, rel=0.01)
    layoff = next(d for d in decisions if d["rule"] == "layoffs")
    assert (layoff["company"], layoff["headcount"]) == ("Microsoft", 10000)


def test_replay_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A missing replay file exits non-zero naming it."""
    result = runner.invoke(cli, ["replay", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
    assert "absent.jsonl: file not found" in result.output
