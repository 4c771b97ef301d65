"""Lexicon files: every language loads, has the keys the rules read, and a new file is enough."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsradar.nlp import lexicon as lexmod

CORE = ("en", "fr", "de", "es")
CUES = (
    "invest",
    "invest_noun",
    "raise",
    "funding",
    "layoff",
    "job",
    "cut",
    "negation",
    "past",
    "talks",
    "announced",
    "completed",
    "denied",
    "ai",
    "valuation",
    "anaphor",
)
COMPANY = (
    "before",
    "suffixes",
    "strip",
    "nonnames",
    "aux",
    "determiners",
    "links",
    "indefinite",
    "joiners",
)


@pytest.mark.parametrize("lang", lexmod.available_languages())
def test_every_file_loads_with_function_words(lang: str) -> None:
    """Each lexicon loads (strings only) and has function words for the language vote."""
    lex = lexmod.lexicon(lang)
    assert len(lexmod.own_stopwords(lang)) >= 20
    assert lex.cues["invest"] and lex.cues["layoff"]


@pytest.mark.parametrize("lang", CORE)
def test_core_languages_have_every_key(lang: str) -> None:
    """en, fr, de and es fill every cue category and company list the rules read."""
    lex = lexmod.lexicon(lang)
    for key in CUES:
        assert lex.cues.get(key), f"{lang}: cues/{key}"
    for key in COMPANY:
        assert key in lex.company, f"{lang}: company/{key}"


def test_unknown_language_gets_the_union() -> None:
    """A language without a file falls back to every file's cues."""
    union = lexmod.lexicon("pt")
    assert {"invests", "investit", "investiert", "invierte"} <= set(union.cues["invest"])


def test_yaml_booleans_are_refused(tmp_path: Path) -> None:
    """A bare `no` (read by YAML as false) is an error, not a silently lost cue."""
    with pytest.raises(ValueError, match="quote it"):
        lexmod._from_dict("xx", {"cues": {"negation": [False, "not"]}})


@pytest.fixture
def extra_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the lexicon folder with one more language file in it."""
    folder = tmp_path / "lexicon"
    shutil.copytree(lexmod.LEXICON_DIR, folder)
    (folder / "pt.yaml").write_text(
        "language: pt\n"
        'stopwords: [o, a, os, as, de, do, da, em, um, uma, que, para, com, por, "no", na,'
        " se, mais, ao, dos, das, foi, tem]\n"
        "cues:\n"
        '  invest: [investir, investe, "vai investir"]\n'
        "  layoff: [demissões, demite]\n",
        encoding="utf-8",
    )
    caches = (
        lexmod.available_languages,
        lexmod._load_file,
        lexmod.lexicon,
        lexmod.cue_matcher,
        lexmod.words_regex,
    )
    monkeypatch.setattr(lexmod, "LEXICON_DIR", folder)
    for cached in caches:
        cached.cache_clear()
    yield folder
    monkeypatch.undo()
    for cached in caches:
        cached.cache_clear()


def test_a_new_language_is_a_new_file(extra_language: Path) -> None:
    """Dropping pt.yaml in the folder makes Portuguese cues available, merged with English."""
    assert "pt" in lexmod.available_languages()
    hits = lexmod.cue_matcher("pt").find("a empresa vai investir e anuncia demissões")
    categories = {h.category for h in hits}
    assert {"invest", "layoff"} <= categories
