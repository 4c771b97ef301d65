"""Fuzzing of `analyze`, the entry point every hostile article text reaches.

`analyze` never raises, and its internal safety net (which
logs "analyze failed" and returns the language only) must not be what keeps it
from raising: a caught exception is a bug hidden, so the tests fail on it too.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsradar import analyze

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- text ----------------------------------------------------------------------------------

#: Words that make `analyze` take its deep paths (money, headcounts, companies, negation, dates).
_WORDS = [
    "Microsoft",
    "OpenAI",
    "Amazon",
    "Anthropic",
    "Google",
    "invests",
    "va investir",
    "investiert",
    "invertirá",
    "raises",
    "lève",
    "cuts",
    "supprime",
    "streicht",
    "despide",
    "jobs",
    "emplois",
    "Stellen",
    "empleos",
    "$",
    "€",
    "£",
    "USD",
    "10",
    "1,5",
    "10.000",
    "1 200",
    "2019",
    "½",
    "%",
    "billion",
    "milliards",
    "Mrd.",
    "mil millones",
    "de dollars",
    "Dollar",
    "dólares",
    "en 2019",
    "a déjà investi",
    "rules out",
    "in",
    "dans",
    "'s",
    ",",
    ".",
    "(",
    ")",
    "\n",
    "İ",
    "ß",
    "\u200b",
    "\u0301",
    "\ud7ff",
]
vocabulary_text = st.lists(
    st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), max_size=40
).map(" ".join)
any_text = st.one_of(st.text(max_size=500), vocabulary_text)


@FUZZ
@given(
    title=any_text,
    summary=any_text,
    language=st.sampled_from([None, "en", "fr", "de", "es", "it", "nl", "xx", ""]),
    published=st.sampled_from([None, "2026-11-26", "2019-01-01", "not-a-date", "0000-00-00"]),
)
def test_analyze_on_arbitrary_text_raises_nothing_and_hides_nothing(
    caplog: pytest.LogCaptureFixture,
    title: str,
    summary: str,
    language: str | None,
    published: str | None,
) -> None:
    """Any text, language hint and date: an Analysis with valid offsets, and no caught exception."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="newsradar"):
        result = analyze(title, summary, language=language, published=published)
    hidden = [r for r in caplog.records if r.exc_info]
    assert not hidden, hidden[0].getMessage() + "\n" + caplog.text
    assert isinstance(result.language, str)
    for org in result.organizations:
        assert result.text[org.start : org.end] == org.surface
    for topic in result.topics:
        for evidence in topic.evidence:
            assert result.text[evidence.start : evidence.end] == evidence.text
