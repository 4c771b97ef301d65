"""Deal and layoff extraction rules, through analyze, on short written sentences."""

from __future__ import annotations

import pytest

from newsradar import analyze


def live_deals(title: str, summary: str = "", **kw: str) -> list[tuple[object, ...]]:
    """(investor, target, amount_usd, stage) of the non-background deals."""
    result = analyze(title, summary, **kw)  # type: ignore[arg-type]
    return [(d.investor, d.target, d.amount_usd, d.stage) for d in result.deals if not d.background]


def test_investor_subject_and_target_after_preposition() -> None:
    """'X invests $N in Y': X invests, Y is the target, N the amount."""
    deals = live_deals("Nvidia invests $200 million in Mistral AI")
    assert [d[:3] for d in deals] == [("Nvidia", "Mistral AI", 2e8)]


def test_german_verb_final_target() -> None:
    """'X plant, in Y zu investieren': the target precedes the verb."""
    deals = live_deals(
        "Siemens plant, in das KI-Start-up Aleph Alpha zu investieren", language="de"
    )
    assert deals and deals[0][:2] == ("Siemens", "Aleph Alpha")


def test_raise_with_lead_investor_and_co_investors() -> None:
    """'X raises $N led by A, with B' gives target X and investor A."""
    result = analyze("Fernwell raises $30 million led by Accel and Index Ventures")
    deal = next(d for d in result.deals if not d.background)
    assert (deal.target, deal.investor) == ("Fernwell", "Accel")
    assert "Index Ventures" in deal.co_investors
    assert deal.amount_usd == pytest.approx(3e7)


def test_valuation_is_not_the_amount() -> None:
    """An amount next to 'valuation' is not what was invested."""
    result = analyze(
        "Anthropic raises $2 billion at a $60 billion valuation",
    )
    deal = next(d for d in result.deals if not d.background)
    assert deal.amount_usd == pytest.approx(2e9)


def test_bracketed_dollar_conversion_is_preferred() -> None:
    """'€15 million ($16.3 million)': the text's own dollar figure is kept."""
    result = analyze("Microsoft invests €15 million ($16.3 million) in Mistral AI")
    deal = next(d for d in result.deals if not d.background)
    assert deal.amount_usd == pytest.approx(16.3e6)


def test_talks_and_denied_stages() -> None:
    """Reported talks are 'talks'; a denial is 'denied'."""
    talks = live_deals("Apple is in talks to invest in Perplexity, sources say")
    assert talks and talks[0][3] == "talks"
    denied = analyze("Apple denies it will invest in Perplexity")
    assert any(d.stage == "denied" for d in denied.deals)


def test_past_year_with_publication_date_is_background() -> None:
    """'in 2019' in an article of 2023 marks the deal as recalled."""
    result = analyze("Microsoft invested $1 billion in OpenAI in 2019", published="2023-01-23")
    assert result.deals and all(d.background for d in result.deals)


def test_capex_without_target_company_is_no_deal() -> None:
    """Money spent on one's own data centres names no target: no deal."""
    assert live_deals("Microsoft investiert 3 Milliarden Euro in deutsche Rechenzentren") == []


def test_layoff_company_headcount_and_share() -> None:
    """'X cuts N jobs, P% of its workforce' gives company, headcount and percent."""
    result = analyze("Dropbox cuts 500 jobs, about 16% of its workforce")
    lay = next(lay for lay in result.layoffs if not lay.background)
    assert (lay.company, lay.headcount, lay.percent) == ("Dropbox", 500, 16.0)


def test_negated_and_short_time_work_are_not_layoffs() -> None:
    """'no layoffs', 'keine Entlassungen' and Kurzarbeit are not job cuts."""
    assert analyze("Airbus says there will be no layoffs this year").layoffs == []
    assert analyze("Bosch: keine Entlassungen geplant", language="de").layoffs == []
    result = analyze("Bei Ford gehen 2000 Beschäftigte in Kurzarbeit", language="de")
    assert "layoffs" not in result.topic_names


def test_company_from_article_when_sentence_says_the_company() -> None:
    """'the company said it is laying off 1,000 workers' refers to the article's company."""
    result = analyze(
        "Peloton names new chief executive",
        "The company said it is laying off 1,000 workers.",
    )
    assert any(lay.company == "Peloton" and lay.headcount == 1000 for lay in result.layoffs)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        (
            "en",
            "Meta, the parent of Facebook, Instagram and WhatsApp, is in talks to back Scale AI",
        ),
        (
            "es",
            "Meta, la matriz de Facebook, Instagram y WhatsApp, negocia una inversión en Scale AI",
        ),
    ],
)
def test_apposition_is_skipped_back_to_the_subject(lang: str, text: str) -> None:
    """The investor is the name an apposition describes, not the last name inside it."""
    investors = {d.investor for d in analyze(text, language=lang).deals if not d.background}
    assert investors == {"Meta"}


def test_company_never_invests_in_itself() -> None:
    """A deal never has the same organisation as investor and target."""
    result = analyze(
        "Hat das KI-Start-up Aleph Alpha wirklich eine Finanzierung über 500 Millionen"
        " Dollar von Investoren bekommen?",
        language="de",
    )
    assert all(d.investor != d.target for d in result.deals)


@pytest.mark.parametrize(
    "title",
    [
        "Apple gets $1 billion tax bill from the EU",
        "Boeing secures $5 billion order from Ryanair",
        "Nvidia bags record $30 billion in quarterly revenue",
        "Apple raises prices of the iPhone by $100",
        "Tesla raises $2 billion in bonds",
        "Apple leads Samsung in smartphone sales",
        "Unions raise the alarm over Siemens plans",
        "Microsoft adds OpenAI models to Azure",
    ],
)
def test_getting_money_is_not_always_funding(title: str) -> None:
    """Weak verbs ('gets', 'secures', 'bags') need funding context for a known company."""
    assert analyze(title).deals == []


def test_weak_verb_with_funding_context_is_a_deal() -> None:
    """'X receives $N from investors' is funding."""
    deals = analyze("Stripe receives $600 million from investors").deals
    assert [(d.target, d.amount_usd) for d in deals] == [("Stripe", 6e8)]


@pytest.mark.parametrize(
    ("lang", "title", "headcount"),
    [
        ("en", "Ford to hire 1,000 workers and cut 500 jobs", 500),
        ("fr", "Airbus recrute 13 000 personnes mais supprime 2 500 postes", 2500),
    ],
)
def test_hiring_count_is_not_the_cut(lang: str, title: str, headcount: int) -> None:
    """A number right after a hiring verb is not the number of jobs cut."""
    layoffs = analyze(title, language=lang).layoffs
    assert [lay.headcount for lay in layoffs] == [headcount]


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("es", "La huelga afectará a 3.000 trabajadores de Renfe"),
        ("de", "Beim Streik bei Lufthansa sind 20.000 Mitarbeiter betroffen"),
    ],
)
def test_strikes_are_not_layoffs(lang: str, title: str) -> None:
    """Workers affected by a strike are not job cuts."""
    assert "layoffs" not in analyze(title, language=lang).topic_names


def test_quoted_clause_does_not_lend_its_preposition() -> None:
    """'"Wir investieren in Europa": Microsoft ...' does not make Microsoft a target."""
    result = analyze(
        "„Wir investieren in Europa“: Microsoft steckt 2 Milliarden Dollar in Aleph Alpha",
        language="de",
    )
    assert [(d.investor, d.target) for d in result.deals] == [("Microsoft", "Aleph Alpha")]
