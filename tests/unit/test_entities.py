"""Organisations and people: gazetteer matches, canonical names, company patterns."""

from __future__ import annotations

import pytest

from newsradar import analyze


def names(title: str, summary: str = "", lang: str | None = None) -> list[str]:
    """Canonical organisation names found, in text order, without repeats."""
    result = analyze(title, summary, language=lang)
    return list(dict.fromkeys(o.name for o in result.organizations))


def test_aliases_fold_to_the_canonical_name() -> None:
    """'Meta Platforms Inc.' and 'Meta' are one organisation, named 'Meta'."""
    result = analyze("Meta Platforms Inc. said on Monday that Meta would hire 300 engineers.")
    assert {o.name for o in result.organizations} == {"Meta"}
    assert {o.surface for o in result.organizations} == {"Meta Platforms Inc.", "Meta"}
    assert all(o.known for o in result.organizations)


def test_no_match_inside_a_longer_word() -> None:
    """A name inside another word ('Metaverse') is not an organisation."""
    assert "Meta" not in names("The Metaverse is dead, analysts say")


def test_german_genitive_is_matched() -> None:
    """'Microsofts' (German genitive) is Microsoft."""
    assert "Microsoft" in names("Microsofts Investition in OpenAI wächst weiter", lang="de")


def test_people_from_the_gazetteer() -> None:
    """Satya Nadella is found as a person, not an organisation."""
    result = analyze("Satya Nadella says Microsoft will keep investing in AI")
    assert [p.name for p in result.people] == ["Satya Nadella"]
    assert "Satya Nadella" not in {o.name for o in result.organizations}


@pytest.mark.parametrize(
    ("lang", "title", "company"),
    [
        ("en", "Brightloom raises $25 million to build AI tools for restaurants", "Brightloom"),
        ("en", "Berlin-based startup Fernweh has raised $8 million", "Fernweh"),
        ("en", "Korvex, a startup that designs AI chips, closed a $30 million round", "Korvex"),
        ("en", "Talvio Robotics Inc. cuts 200 jobs", "Talvio Robotics"),
        ("fr", "La start-up Ondalys lève 12 millions d'euros", "Ondalys"),
        ("fr", "Brevanne supprime 150 postes dans l'Ouest", "Brevanne"),
        ("de", "Das Start-up Wolkenwerk sammelt 15 Millionen Euro ein", "Wolkenwerk"),
        ("de", "Der Maschinenbauer Heidrich streicht 400 Stellen", "Heidrich"),
        ("es", "La startup Brisalia capta 3 millones de euros", "Brisalia"),
        ("es", "La empresa de logística Trasmonte despide a 120 empleados", "Trasmonte"),
    ],
)
def test_unknown_companies_from_context(lang: str, title: str, company: str) -> None:
    """Companies in no list are found when the sentence makes clear they are companies."""
    result = analyze(title, language=lang)
    unknown = [o for o in result.organizations if not o.known]
    assert company in {o.name for o in unknown}


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "Analysts say the market will recover in March"),
        ("de", "Die Stimmung in der Autoindustrie bleibt schlecht"),
        ("fr", "Le marché du travail reste tendu selon les économistes"),
    ],
)
def test_no_company_invented_from_ordinary_words(lang: str, title: str) -> None:
    """Capitalised ordinary words (German nouns, months) are not taken as companies."""
    result = analyze(title, language=lang)
    assert [o for o in result.organizations if not o.known] == []


def test_short_form_after_full_name() -> None:
    """'Stability' after 'Stability AI' in the same text is Stability AI."""
    result = analyze("Stability AI gets new funding", "Stability raised $50 million in October.")
    stability = [o for o in result.organizations if o.name == "Stability AI"]
    assert {o.surface for o in stability} == {"Stability AI", "Stability"}


@pytest.mark.parametrize(
    "title",
    [
        "The Amazon rainforest lost more trees this year",
        "Orange juice prices rise again",
        "Harvey Weinstein appeal rejected",
    ],
)
def test_ambiguous_names_need_context(title: str) -> None:
    """Names that are also words or places need company context to count."""
    assert analyze(title).organizations == []


def test_ambiguous_name_with_business_context() -> None:
    """'Amazon cuts 14,000 jobs' is the company."""
    assert [o.name for o in analyze("Amazon cuts 14,000 jobs").organizations] == ["Amazon"]
