"""Language identification: function-word vote, py3langid fallback, hints."""

from __future__ import annotations

import pytest

from newsradar.nlp.language import detect_language

SENTENCES = [
    ("en", "The company said it will cut about 500 jobs by the end of the year."),
    ("fr", "Le groupe a annoncé la suppression de 300 postes dans ses usines du Nord."),
    ("de", "Der Konzern will bis Ende des Jahres rund 500 Stellen in Deutschland abbauen."),
    ("es", "La empresa anunció que despedirá a 200 trabajadores de su planta en Valencia."),
    ("it", "La società ha annunciato il taglio di 300 posti di lavoro nello stabilimento."),
    ("nl", "Het bedrijf heeft aangekondigd dat er 300 banen verdwijnen bij de fabriek."),
    ("fr", "Microsoft annonce 10 000 licenciements"),
    ("es", "Telefónica despedirá a 3.400 trabajadores"),
]


@pytest.mark.parametrize(("lang", "text"), SENTENCES)
def test_detects_language(lang: str, text: str) -> None:
    """Each sentence is detected as its language with a positive score."""
    found, score = detect_language(text)
    assert found == lang
    assert 0.0 < score <= 1.0


def test_hint_wins_on_featureless_text() -> None:
    """A name-only headline gives no evidence: the hint is used."""
    assert detect_language("Nvidia: 2024", "de")[0] == "de"


def test_hint_loses_against_clear_evidence() -> None:
    """A wrong hint does not override a clearly English text."""
    text = "The company said that it was in talks with investors about a new round of funding."
    assert detect_language(text, "fr")[0] == "en"


@pytest.mark.parametrize("text", ["", "   ", "12345 !!!", "\x00\x01\x02", "東京 株式 会社"])
def test_never_raises(text: str) -> None:
    """Empty, numeric, control-character and other-script texts still get a code."""
    lang, score = detect_language(text)
    assert isinstance(lang, str) and len(lang) >= 2
    assert 0.0 <= score <= 1.0


def test_bcp47_hints() -> None:
    """Region subtags are dropped and 'und' (undetermined) is no hint at all."""
    assert detect_language("12345", "fr-FR")[0] == "fr"
    assert detect_language("12345", "und")[0] != "un"
