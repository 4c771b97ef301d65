"""Build script: compiles the analysis modules to C extensions with mypyc.

Compiled, `analyze` is about 1.5x faster (docs/PERFORMANCE.md, section 1); the pure
Python sources stay in the package and are what runs when compilation is switched off
with NEWSRADAR_PURE_PYTHON=1 (no C compiler needed; useful when profiling), or when the
C build fails (no compiler or Python headers): the install then goes on in pure Python
with a warning, so the service still starts; `newsradar_build_info{analysis}` tells.
Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

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


def _warn(why: str) -> None:
    print(
        f"WARNING: newsradar installs its analysis as pure Python (about 1.5x slower): {why}",
        file=sys.stderr,
    )


class BuildExtOrPure(build_ext):
    """Builds the extensions; when the C build fails, leaves none behind and goes on."""

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError) as exc:
            # One missing extension would break the import of the rest (they share one
            # library), so it is all or nothing.
            for built in self.get_outputs():
                Path(built).unlink(missing_ok=True)
            self.extensions = []
            _warn(f"the C build failed ({exc}); install a C compiler and the Python headers")


def _extensions() -> list[Extension]:
    """The mypyc extensions, or none when the environment asks for pure Python."""
    if os.environ.get("NEWSRADAR_PURE_PYTHON", "").strip() not in ("", "0"):
        # An earlier compiled editable install left extensions beside the sources; they
        # would shadow the Python modules this install promises.
        here = Path(__file__).resolve().parent / "src"
        for stale in [*here.glob("newsradar_nlp__mypyc*.so"), *here.glob("newsradar/nlp/*.so")]:
            stale.unlink()
        return []
    try:
        from mypyc.build import mypycify

        return mypycify(COMPILED, group_name="newsradar_nlp", opt_level="3")
    except (ImportError, SystemExit) as exc:  # no mypy, or mypy rejects the sources
        _warn(f"mypyc could not translate the sources ({exc!r})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExtOrPure})
