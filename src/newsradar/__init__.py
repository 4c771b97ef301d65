"""newsradar: news feeds in, AI-investment deals and layoffs out, as alerts within seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from newsradar.nlp.analyze import analyze as analyze

__all__ = ["__version__", "analyze"]


def __getattr__(name: str) -> Any:
    """Import the analysis lazily so `import newsradar` stays cheap for the CLI."""
    if name == "analyze":
        from newsradar.nlp.analyze import analyze

        return analyze
    raise AttributeError(name)
