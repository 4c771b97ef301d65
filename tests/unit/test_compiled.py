"""The analysis modules run compiled (setup.py), and a stale build is detected."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

import newsradar.nlp as nlp


def test_analysis_runs_compiled() -> None:
    """An install without NEWSRADAR_PURE_PYTHON loads every hot module as a C extension."""
    compiled = nlp.compiled_modules()
    assert set(compiled) == set(nlp.COMPILED_MODULES)
    if os.environ.get("NEWSRADAR_PURE_PYTHON", "").strip() in ("", "0"):
        assert all(compiled.values()), compiled
    else:
        assert not any(compiled.values()), compiled


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
        modules[f"newsradar.nlp.{name}"] = types.SimpleNamespace(__file__=str(built))
    monkeypatch.setattr(nlp.importlib, "import_module", modules.__getitem__)
    assert nlp.stale_extensions() == ["extract"]
    assert nlp.compiled_modules() == dict.fromkeys(nlp.COMPILED_MODULES, True)
    # Installed from a wheel (no setup.py above the package): file times prove nothing.
    (tmp_path / "setup.py").unlink()
    assert nlp.stale_extensions() == []


def test_pure_sources_are_never_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules loaded from their .py files have nothing to be stale against."""
    fake = {
        f"newsradar.nlp.{name}": types.SimpleNamespace(__file__=f"/src/newsradar/nlp/{name}.py")
        for name in nlp.COMPILED_MODULES
    }
    monkeypatch.setattr(nlp.importlib, "import_module", fake.__getitem__)
    assert nlp.stale_extensions() == []
    assert not any(nlp.compiled_modules().values())
