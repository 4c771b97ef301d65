"""Language analysis of news texts: `newsradar.nlp.analyze.analyze` is the entry point."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# The modules setup.py compiles with mypyc, the hot path of `analyze` (setup.py reads this
# list; schema.py holds pydantic models and stays Python, and so do the streaming and I/O
# modules, which wait on the network, not the CPU).
COMPILED_MODULES = (
    "analyze",
    "entities",
    "extract",
    "language",
    "lexicon",
    "numbers",
    "text",
    "topics",
)


def compiled_modules() -> dict[str, bool]:
    """For each module setup.py compiles: whether it was loaded as a C extension."""
    return {name: _origin(name).suffix != ".py" for name in COMPILED_MODULES}


def _origin(name: str) -> Path:
    """The file `newsradar.nlp.<name>` loads from (found without importing it)."""
    spec = importlib.util.find_spec(f"newsradar.nlp.{name}")
    return Path(spec.origin if spec is not None and spec.origin else "")


def stale_extensions() -> list[str]:
    """Compiled modules older than their source beside them (an editable install not rebuilt).

    The extension shadows the source, so an edit would silently not run; tests and the
    benchmark refuse to measure such a tree. Only a source checkout (src/ layout, setup.py
    two levels up) can be stale: an installed wheel writes each source after its
    extension, which proves nothing.
    """
    stale: list[str] = []
    for name in COMPILED_MODULES:
        built = _origin(name)
        source = built.with_name(f"{name}.py")
        checkout = (built.parents[3] / "setup.py").is_file() if len(built.parents) > 3 else False
        compiled = checkout and built.suffix != ".py" and source.exists()
        if compiled and source.stat().st_mtime > built.stat().st_mtime:
            stale.append(name)
    return stale
