"""The analysis modules run compiled (setup.py), and a stale build is detected."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

import newsradar
import newsradar.nlp as nlp


def test_analysis_runs_compiled() -> None:
    """The hot modules are all compiled or all Python (a partial build would mean a C
    build that failed half-way); CI (NEWSRADAR_EXPECT_COMPILED=1) requires compiled."""
    compiled = nlp.compiled_modules()
    assert set(compiled) == set(nlp.COMPILED_MODULES)
    assert len(set(compiled.values())) == 1, compiled
    if os.environ.get("NEWSRADAR_EXPECT_COMPILED", "").strip() not in ("", "0"):
        assert all(compiled.values()), compiled


def test_stale_extension_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An extension older than the source beside it is named; a fresh one is not."""
    (tmp_path / "setup.py").write_text("")  # a source checkout: src/newsradar/nlp/
    package = tmp_path / "src" / "newsradar" / "nlp"
    package.mkdir(parents=True)
    modules = {}
    for name in nlp.COMPILED_MODULES:
        built = package / f"{name}.cpython-311-x86_64-linux-gnu.so"
        source = package / f"{name}.py"
        built.write_bytes(b"")
        source.write_text("")
        fresh = name != "extract"
        os.utime(built, (2_000_000, 2_000_000 if fresh else 1_000_000))
        os.utime(source, (1_500_000, 1_500_000))
        modules[f"newsradar.nlp.{name}"] = types.SimpleNamespace(origin=str(built))
    monkeypatch.setattr(nlp.importlib.util, "find_spec", modules.__getitem__)
    assert nlp.stale_extensions() == ["extract"]
    assert nlp.compiled_modules() == dict.fromkeys(nlp.COMPILED_MODULES, True)
    # Installed from a wheel (no setup.py above the package): file times prove nothing.
    (tmp_path / "setup.py").unlink()
    assert nlp.stale_extensions() == []


def test_pure_sources_are_never_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules loaded from their .py files have nothing to be stale against."""
    fake = {
        f"newsradar.nlp.{name}": types.SimpleNamespace(origin=f"/src/newsradar/nlp/{name}.py")
        for name in nlp.COMPILED_MODULES
    }
    monkeypatch.setattr(nlp.importlib.util, "find_spec", fake.__getitem__)
    assert nlp.stale_extensions() == []
    assert not any(nlp.compiled_modules().values())


def test_build_info_says_how_the_analysis_runs() -> None:
    """The worker's build-info metric carries the analysis build (compiled or python)."""
    from prometheus_client import CollectorRegistry

    from newsradar.metrics import Metrics

    registry = CollectorRegistry()
    Metrics(registry)
    expected = "compiled" if all(nlp.compiled_modules().values()) else "python"
    labels = {"version": newsradar.__version__, "analysis": expected}
    assert registry.get_sample_value("newsradar_build_info", labels) == 1.0
    other = {"version": newsradar.__version__, "analysis": "python"}
    if expected == "compiled":
        assert registry.get_sample_value("newsradar_build_info", other) is None
