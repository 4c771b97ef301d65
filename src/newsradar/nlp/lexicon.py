"""Per-language cue lexicons (data/lexicon/<lang>.yaml), compiled once per process.

A lexicon lists the words of investing and cutting jobs, stage and past-time cues,
company cues and function words of one language. `cue_matcher(lang)` compiles the cue
phrases into one Aho-Corasick automaton matched on lower-cased text; phrase syntax:
a trailing "*" drops the right word boundary, a leading "*" the left one.
Languages without a file fall back to the union of all files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from newsradar.nlp.text import PlainValue

LEXICON_DIR = Path(__file__).resolve().parent / "data" / "lexicon"


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The data of one language (or the union of several)."""

    language: str
    stopwords: frozenset[str]
    abbreviations: frozenset[str]
    months: tuple[str, ...]
    cues: dict[str, tuple[str, ...]]
    company: dict[str, tuple[str, ...]]
    extra: dict[str, Any] = field(default_factory=dict)


#: Cue categories of money put into a company and of job cuts: a sentence with one of
#: them may report a deal or layoffs (the analysis's triggers and contexts build on them).
DEAL_AND_CUT_CUES = frozenset(
    {
        "invest",
        "invest_noun",
        "raise",
        "raise_weak",
        "funding",
        "back",
        "back_weak",
        "acquire",
        "investor_after",
        "layoff",
        "cut",
    }
)


class CueHit(PlainValue):
    """One cue phrase found in the text: its category and span."""

    def __init__(self, category: str, phrase: str, start: int, end: int) -> None:
        self.category = category
        self.phrase = phrase
        self.start = start
        self.end = end

    def _key(self) -> tuple[str, str, int, int]:
        return (self.category, self.phrase, self.start, self.end)


@cache
def available_languages() -> tuple[str, ...]:
    """ISO 639-1 codes that have a lexicon file, sorted."""
    names = [p.name for p in LEXICON_DIR.glob("*.yaml")]
    return tuple(sorted(n.removesuffix(".yaml") for n in names))


def _as_tuple(value: Any, where: str = "") -> tuple[str, ...]:
    if not value:
        return ()
    for v in value:
        if not isinstance(v, str):
            # YAML reads bare no/yes/on/off as booleans: a silent loss of a cue word.
            raise ValueError(f"lexicon {where}: {v!r} is not a string (quote it)")
    return tuple(value)


def _from_dict(lang: str, data: dict[str, Any]) -> Lexicon:
    cues = {k: _as_tuple(v, f"{lang}/cues/{k}") for k, v in (data.get("cues") or {}).items()}
    company = {
        k: _as_tuple(v, f"{lang}/company/{k}") for k, v in (data.get("company") or {}).items()
    }
    known = {"language", "stopwords", "abbreviations", "months", "cues", "company"}
    return Lexicon(
        language=lang,
        stopwords=frozenset(
            w.lower() for w in _as_tuple(data.get("stopwords"), f"{lang}/stopwords")
        ),
        abbreviations=frozenset(
            w.lower() for w in _as_tuple(data.get("abbreviations"), f"{lang}/abbreviations")
        ),
        months=_as_tuple(data.get("months"), f"{lang}/months"),
        cues=cues,
        company=company,
        extra={k: v for k, v in data.items() if k not in known},
    )


@cache
def _load_file(lang: str) -> Lexicon:
    text = (LEXICON_DIR / f"{lang}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return _from_dict(lang, data)


def own_stopwords(lang: str) -> frozenset[str]:
    """The function words of `lang`'s own file (not merged with any fallback)."""
    if lang not in available_languages():
        return frozenset()
    return _load_file(lang).stopwords


@cache
def own_cue_words(lang: str) -> frozenset[str]:
    """Single-word cue phrases of `lang`'s own file (language-typical vocabulary)."""
    if lang not in available_languages():
        return frozenset()
    words: set[str] = set()
    for phrases in _load_file(lang).cues.values():
        for phrase in phrases:
            core = phrase.lower()
            if "*" not in core and " " not in core and core.isalpha():
                words.add(core)
    return frozenset(words)


def _merge(lang: str, parts: list[Lexicon]) -> Lexicon:
    cues: dict[str, list[str]] = {}
    company: dict[str, list[str]] = {}
    for part in parts:
        for k, v in part.cues.items():
            cues.setdefault(k, []).extend(v)
        for k, v in part.company.items():
            company.setdefault(k, []).extend(v)
    return Lexicon(
        language=lang,
        stopwords=frozenset().union(*(p.stopwords for p in parts)),
        abbreviations=frozenset().union(*(p.abbreviations for p in parts)),
        months=tuple(m for p in parts for m in p.months),
        cues={k: tuple(dict.fromkeys(v)) for k, v in cues.items()},
        company={k: tuple(dict.fromkeys(v)) for k, v in company.items()},
    )


@cache
def lexicon(lang: str) -> Lexicon:
    """The lexicon of `lang`; a language without a file gets the union of all files.

    A language with a small file of its own (nl, it) is merged with English, so that
    English cues common in business news ("startup", "AI") still fire.
    """
    langs = available_languages()
    if lang in langs:
        own = _load_file(lang)
        if lang in {"en", "fr", "de", "es"}:
            return own
        return _merge(lang, [own, _load_file("en")])
    return _merge(lang, [_load_file(code) for code in langs])


def _normalise_phrase(phrase: str) -> tuple[str, bool, bool]:
    core = phrase.strip("*").lower().replace("’", "'")
    left_free = phrase.startswith("*") or (bool(core) and not core[0].isalnum())
    right_free = (phrase.endswith("*") and len(phrase) > 1) or (
        bool(core) and not core[-1].isalnum()
    )
    return core, left_free, right_free


class CueMatcher:
    """Finds cue phrases of one lexicon in lower-cased, normalised text."""

    __slots__ = ("_automaton", "categories", "lang")

    def __init__(self, lex: Lexicon, skip: frozenset[str] = frozenset()) -> None:
        self.lang = lex.language
        entries: dict[str, list[tuple[str, str, bool, bool]]] = {}
        categories = dict(lex.cues)
        categories["co_before"] = lex.company.get("before", ())
        categories["co_after"] = lex.company.get("after", ())
        categories["co_suffix"] = lex.company.get("suffixes", ())
        for category, phrases in categories.items():
            if category in skip:
                continue
            for phrase in phrases:
                core, left_free, right_free = _normalise_phrase(phrase)
                if not core:
                    continue
                entries.setdefault(core, []).append((category, phrase, left_free, right_free))
        automaton = ahocorasick.Automaton()
        for core, values in entries.items():
            # Per core, the (category, phrase) pairs that fire for each boundary case,
            # indexed by 2 * left_ok + right_ok: find() then tests no flags per value.
            by_case = tuple(
                tuple(
                    (category, phrase)
                    for category, phrase, left_free, right_free in values
                    if (left_ok or left_free) and (right_ok or right_free)
                )
                for left_ok in (False, True)
                for right_ok in (False, True)
            )
            automaton.add_word(core, (len(core), by_case))
        if entries:
            automaton.make_automaton()
        self._automaton = automaton if entries else None
        self.categories = frozenset(c for vs in entries.values() for c, *_ in vs)

    def find(self, lower: str) -> list[CueHit]:
        """All cue hits in `lower` (already lower-cased and normalised), in text order."""
        if self._automaton is None:
            return []
        hits: list[CueHit] = []
        append = hits.append
        # Padded by one space each side: the characters around a match [start, end) are
        # padded[start] and padded[end + 1], with no test for the ends of the text.
        padded = f" {lower} "
        for end_idx, (length, by_case) in self._automaton.iter(lower):
            start = end_idx - length + 1
            end = end_idx + 1
            pairs = by_case[(not padded[start].isalnum()) * 2 + (not padded[end_idx + 2].isalnum())]
            for category, phrase in pairs:
                append(CueHit(category, phrase, start, end))
        # Two stable C-level sorts give the order of the key (start, -end), ties in
        # the order found, without a Python call per hit.
        hits.sort(key=_END_KEY, reverse=True)
        hits.sort(key=_START_KEY)
        return hits


_START_KEY = attrgetter("start")
_END_KEY = attrgetter("end")


# Categories matched by a regex of their own rather than the automaton.
_REGEX_CATEGORIES = frozenset({"target_prep"})


@cache
def cue_matcher(lang: str) -> CueMatcher:
    """The compiled cue matcher of `lang` (built once per process)."""
    return CueMatcher(lexicon(lang), skip=_REGEX_CATEGORIES)


def word_start_alternation(words: list[str]) -> str:
    r"""Regex text matching what `(?<!\w)(?:w1|w2|...)` matches (`words` escaped, in order).

    The lookbehind sits after each word's first character: the pattern then opens with
    literal characters, which the regex engine scans for quickly, rather than with an
    assertion it tries at every position of the text (2-6x faster on a whole text).
    """
    if not words:
        return r"(?!x)x"
    if not all(words):
        return rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in words)})"
    return (
        "(?:" + "|".join(re.escape(w[0]) + r"(?<!\w[\s\S])" + re.escape(w[1:]) for w in words) + ")"
    )


@cache
def words_regex(lang: str, category: str) -> re.Pattern[str]:
    """A regex matching any phrase of `category` as whole words, on lower-cased text."""
    phrases = sorted(
        {_normalise_phrase(p)[0] for p in lexicon(lang).cues.get(category, ())},
        key=len,
        reverse=True,
    )
    if not phrases:
        return re.compile(r"(?!x)x")
    return re.compile(rf"{word_start_alternation(phrases)}(?!\w)")
