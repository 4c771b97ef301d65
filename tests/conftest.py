"""Session checks shared by every test directory."""

from __future__ import annotations

import pytest

from newsradar.nlp import stale_extensions


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test compiled analysis modules that are older than their sources."""
    stale = stale_extensions()
    if stale:
        pytest.exit(
            f"compiled modules older than their sources: {', '.join(stale)}; rebuild with "
            "`pip install -e .` (or `make test`), or install pure Python with "
            "NEWSRADAR_PURE_PYTHON=1 pip install -e .",
            returncode=4,
        )
