"""analyze never raises, caps its input and keeps offsets valid on arbitrary text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsradar import analyze
from newsradar.nlp.analyze import MAX_CHARS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.text(max_size=400))
def test_arbitrary_text_never_raises(title: str, summary: str) -> None:
    """Any unicode title and summary give an Analysis whose offsets index its text."""
    result = analyze(title, summary)
    assert isinstance(result.language, str)
    for org in result.organizations:
        assert result.text[org.start : org.end] == org.surface
    for topic in result.topics:
        for ev in topic.evidence:
            assert result.text[ev.start : ev.end] == ev.text


def test_odd_inputs() -> None:
    """Empty, binary garbage, mixed scripts and non-strings do not raise."""
    for title, summary in [
        ("", ""),
        ("\x00\xff\ufffd", "\u200b\u202e"),
        ("Microsoft 投资 OpenAI 100亿美元", "Майкрософт инвестирует"),
        (b"\xffbytes".decode("latin-1"), "x" * 10),
    ]:
        assert analyze(title, summary).text.startswith(title.replace("\x00", " ")[:1])
    assert analyze(None, None).text == ""
    assert analyze(b"Acme cuts 40 jobs").text == "Acme cuts 40 jobs"


def test_huge_text_is_capped() -> None:
    """Only the first MAX_CHARS characters are analysed."""
    body = "Dell cuts 500 jobs. " * 5000
    result = analyze("Dell cuts jobs", body)
    assert len(result.text) == MAX_CHARS
    assert "layoffs" in result.topic_names


def test_dotted_i_keeps_offsets() -> None:
    """Characters whose lower case is longer ('İ') do not shift offsets."""
    result = analyze("İstanbul: Microsoft invests $1 billion in OpenAI")
    org = next(o for o in result.organizations if o.name == "OpenAI")
    assert result.text[org.start : org.end] == "OpenAI"


def test_preload_compiles_everything() -> None:
    """preload() returns the seconds it took, and analyze works right after it."""
    from newsradar.nlp.analyze import preload

    assert preload() >= 0.0
    assert analyze("Dell cuts 500 jobs").topic_names == ["layoffs"]
