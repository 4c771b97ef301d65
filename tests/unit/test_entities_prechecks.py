"""The fast pre-checks of the entity rules agree with the regexes they stand for."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsradar.nlp import entities
from newsradar.nlp.lexicon import word_start_alternation

# Letters around every boundary the patterns look at: capitals (ASCII and Latin-1, "×"
# inside that range), lower-case, apostrophes, word joiners, digits, spaces, newlines.
_TEXT = st.text(alphabet="aAbBxXzZqÀÞ×éÉ'’_-.&1 \n", max_size=14)
_AI_NAMED_PLAIN = re.compile(r"(?<![\w.&-])([A-ZÀ-Þ][a-zà-ÿ]+[\w-]*) AI(?![\w.-])")


@settings(max_examples=3000, deadline=None)
@given(_TEXT, st.integers(-3, 17), st.integers(-1, 18))
def test_has_word_cap_is_the_word_cap_search(text: str, lo: int, hi: int) -> None:
    """_has_word_cap(text, lo, hi) answers exactly as _WORD_CAP.search(text, lo, hi)."""
    lo = max(lo, 0)
    expected = entities._WORD_CAP.search(text, lo, hi) is not None
    assert entities._has_word_cap(text, lo, hi) is expected


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="aAbB AIÀé.&-_1\nx", max_size=16))
def test_ai_named_pattern_matches_as_a_leading_lookbehind_would(text: str) -> None:
    """The reordered "X AI" pattern finds the same spans and names as the plain one."""

    def spans(p: re.Pattern[str]) -> list[tuple[tuple[int, int], str]]:
        return [(m.span(), m.group(1)) for m in p.finditer(text)]

    assert spans(entities._AI_NAMED) == spans(_AI_NAMED_PLAIN)


def test_has_word_cap_examples() -> None:
    """A camel-cased name counts only from its start; a blank window has no capital."""
    assert entities._has_word_cap("in xAI now", 0, 10)
    assert not entities._has_word_cap("in xAI now", 4, 10)  # starts inside "xAI"
    assert not entities._has_word_cap("all lower case", 0, 14)
    assert entities._has_word_cap("a × b", 0, 5)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.text(alphabet="ab '%-é", min_size=1, max_size=4), min_size=1, max_size=4),
    st.text(alphabet="ab '%-é_1\n", max_size=16),
)
def test_word_start_alternation_is_a_leading_lookbehind(words: list[str], text: str) -> None:
    """word_start_alternation matches exactly where (?<!\\w)(?:words) does."""
    plain = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in words)})(?!\w)")
    fast = re.compile(rf"{word_start_alternation(words)}(?!\w)")
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
