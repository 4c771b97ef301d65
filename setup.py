"""Build script: compiles the analysis modules to C extensions with mypyc.

Compiled, `analyze` is about 1.5x faster (docs/PERFORMANCE.md, section 1); the pure
Python sources stay in the package and are what runs when compilation is switched off
with NEWSRADAR_PURE_PYTHON=1 (no C compiler needed; useful when profiling), or when the
C build fails (no compiler or Python headers): the install then goes on in pure Python
with a warning, so the service still starts; `newsradar_build_info{analysis}` tells.
Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

HERE = Path(__file__).resolve().parent


def _compiled_sources() -> list[str]:
    """The modules to compile: `newsradar.nlp.COMPILED_MODULES`, read from the source (the
    package cannot be imported before its dependencies are installed), so the list the
    build compiles and the one the runtime checks are one."""
    init = HERE / "src" / "newsradar" / "nlp" / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMPILED_MODULES" for t in node.targets
        ):
            return [f"src/newsradar/nlp/{name}.py" for name in ast.literal_eval(node.value)]
    raise RuntimeError(f"{init}: COMPILED_MODULES not found")


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
        src = HERE / "src"
        for stale in [*src.glob("newsradar_nlp__mypyc*.so"), *src.glob("newsradar/nlp/*.so")]:
            stale.unlink()
        return []
    try:
        from mypyc.build import mypycify

        return mypycify(_compiled_sources(), group_name="newsradar_nlp", opt_level="3")
    except (ImportError, SystemExit) as exc:  # no mypy, or mypy rejects the sources
        _warn(f"mypyc could not translate the sources ({exc!r})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExtOrPure})
