"""Build script: compiles the analysis modules to C extensions with mypyc.

Compiled, `analyze` is about 1.5x faster (docs/PERFORMANCE.md, section 1); the pure
Python sources stay in the package and are what runs when compilation is switched off
with NEWSRADAR_PURE_PYTHON=1 (no C compiler needed; useful when profiling). Everything
else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import Extension, setup

# The hot path of `analyze`; schema.py stays Python because pydantic models cannot be
# compiled, and so do the streaming and I/O modules, which wait on the network, not the CPU.
COMPILED = [
    "src/newsradar/nlp/analyze.py",
    "src/newsradar/nlp/entities.py",
    "src/newsradar/nlp/extract.py",
    "src/newsradar/nlp/language.py",
    "src/newsradar/nlp/lexicon.py",
    "src/newsradar/nlp/numbers.py",
    "src/newsradar/nlp/text.py",
    "src/newsradar/nlp/topics.py",
]


def _extensions() -> list[Extension]:
    """The mypyc extensions, or none when the environment asks for pure Python."""
    if os.environ.get("NEWSRADAR_PURE_PYTHON", "").strip() not in ("", "0"):
        # An earlier compiled editable install left extensions beside the sources; they
        # would shadow the Python modules this install promises.
        here = Path(__file__).resolve().parent / "src"
        for stale in [*here.glob("newsradar_nlp__mypyc*.so"), *here.glob("newsradar/nlp/*.so")]:
            stale.unlink()
        return []
    from mypyc.build import mypycify

    return mypycify(COMPILED, group_name="newsradar_nlp", opt_level="3")


setup(ext_modules=_extensions())
