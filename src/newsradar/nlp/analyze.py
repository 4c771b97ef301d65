"""`analyze`: language, organisations, people, money, headcounts, topics, deals, layoffs.

One pass over a headline and summary, with everything compiled once per process
(lexicon automata, gazetteer, number grammars). Every topic and extraction carries
the evidence span that fired. `analyze` never raises: on unexpected input it returns
what it could find (at worst just the text and the language).

`Analysis.text` is title + "\n" + summary, cut at MAX_CHARS characters: a feed item's
headline and summary fit, a whole page does not need to. Texts with no cue word of
investing or cutting jobs skip the sentence rules (the common, fast case: about
17,000 everyday news items/s on one core against ~5,700/s for the cue-dense dev file).
Call `preload()` at worker start-up to pay the ~1 s of loading before the first item.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from newsradar.nlp import extract, numbers
from newsradar.nlp.entities import find_entities
from newsradar.nlp.language import detect_language
from newsradar.nlp.lexicon import DEAL_AND_CUT_CUES, cue_matcher, lexicon
from newsradar.nlp.numbers import MoneyMatch
from newsradar.nlp.schema import Analysis
from newsradar.nlp.text import lower_same_length, normalise, split_sentences
from newsradar.nlp.topics import decide_topics

log = logging.getLogger(__name__)

#: analyze looks at no more than this many characters (title + "\n" + summary).
MAX_CHARS = 20_000
_DATE_YEAR = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?")
#: Categories whose presence makes the deal and layoff rules worth running.
_TRIGGERS = DEAL_AND_CUT_CUES | {"acquired_by"}


_VALIDATE = Analysis.__pydantic_validator__.validate_python


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", " ")
    return value


def _published(published: str | None) -> tuple[int | None, int]:
    """(year, month) of an ISO date or datetime ("2023-01-23", "2023-01"); month 0 if absent."""
    if not published:
        return None, 0
    m = _DATE_YEAR.match(str(published))
    if not m:
        return None, 0
    month = int(m.group(2)) if m.group(2) and 1 <= int(m.group(2)) <= 12 else 0
    return int(m.group(1)), month


def _bare_money(text: str, lang: str, money: list[MoneyMatch]) -> list[MoneyMatch]:
    """Amounts without a currency, in the text's one named currency or the language's."""
    currencies = {m.currency for m in money}
    if len(currencies) > 1:
        return []  # several currencies named: no telling which one a bare sum is in
    return numbers.find_bare_amounts(text, lang, next(iter(currencies), None))


def _main_org(orgs: list[Any], text: str) -> Any:
    """The organisation the article is about: first non-media one of the title, else
    of the text."""
    title_end = text.find("\n")
    title_end = len(text) if title_end < 0 else title_end
    # not "Nvidia" in "Nvidia-backed Lovable raises ...": a name glued to an attribute
    pool = [
        o
        for o in orgs
        if o.kind not in extract.PASSIVE_KINDS
        and not (text[o.end : o.end + 1] == "-" and text[o.end + 1 : o.end + 2].islower())
    ]
    in_title = [o for o in pool if o.end <= title_end]
    # "Creandum investiert in Sereact ... Das Start-up erhält": the start-up referred to
    # is the company, not the investment firm named first.
    companies = [o for o in in_title if o.kind != "investor"]
    if not pool and orgs and orgs[0].start == 0 and text[orgs[0].end : orgs[0].end + 2] != ": ":
        return orgs[0]  # a news organisation as the headline's subject ("... Times cuts")
    return (companies or in_title or pool or [None])[0]


def _evidence(text: str, start: int, end: int) -> dict[str, Any]:
    return {"text": text[start:end], "start": start, "end": end}


def preload() -> float:
    """Load and compile everything analyze needs (gazetteer, lexicons, py3langid, number
    grammars) now rather than on the first article; returns the seconds it took.

    Workers call it at start-up so the first message is not ~1 s slower than the rest.
    """
    started = time.perf_counter()
    from newsradar.nlp.entities import gazetteer
    from newsradar.nlp.language import _identifier
    from newsradar.nlp.lexicon import available_languages

    gazetteer()
    _identifier()
    for lang in available_languages():
        cue_matcher(lang)
        analyze("Preload Inc cuts 10 jobs", "Preload raises $1 million.", language=lang)
    return time.perf_counter() - started


def analyze(
    title: str | bytes | None,
    summary: str | bytes | None = "",
    *,
    language: str | None = None,
    published: str | None = None,
) -> Analysis:
    """Analyse a headline and summary; offsets index `Analysis.text` (title + "\\n" + summary).

    `language` (ISO 639-1) is a hint used when detection is unsure; `published`
    (ISO date) helps tell recalled events ("in 2019") from news. A missing title or
    summary reads as empty and bytes are decoded as UTF-8, so a sloppy caller gets an
    analysis rather than an exception (the compiled module checks these types).
    """
    title_s, summary_s = _clean(title), _clean(summary)
    text = f"{title_s}\n{summary_s}" if summary_s else title_s
    text = text[:MAX_CHARS]
    try:
        return _analyze(text, language, published)
    except Exception:  # never let one odd article stop the stream
        log.exception("analyze failed; returning the language only")
        lang, score = language or "en", 0.0
        with contextlib.suppress(Exception):
            lang, score = detect_language(text, language)
        return Analysis(text=text, language=lang, language_score=score)


def _analyze(text: str, hint: str | None, published: str | None) -> Analysis:
    norm = normalise(text)
    lower = lower_same_length(norm)
    lang, lang_score = detect_language(norm, hint)
    lex = lexicon(lang)
    hits = cue_matcher(lang).find(lower)

    money_matches = numbers.find_money(text, lang)
    count_matches = numbers.find_headcounts(text, lang)

    orgs, people = find_entities(norm, lower, lex, hits, [(m.start, m.end) for m in money_matches])

    deals_found: list[extract.DealFound] = []
    layoffs_found: list[extract.LayoffFound] = []
    ai_spans: list[tuple[int, int]] = []
    if any(h.category in _TRIGGERS for h in hits) or extract.loss_counts(
        count_matches, lower, lang
    ):
        sentences = split_sentences(text, lex.abbreviations)
        pub_year, pub_month = _published(published)
        ai_spans = [(h.start, h.end) for h in hits if h.category == "ai"]
        ctx = extract.Context(
            norm=norm,
            lower=lower,
            lex=lex,
            lang=lang,
            hits=hits,
            orgs=orgs,
            # The numbers matches have the attributes the rules read (value, currency,
            # value_usd, percent, start, end): no copies.
            money=money_matches,
            counts=count_matches,
            sentences=sentences,
            # Sums without a currency ("levanta 2.000 millones"), used only in sentences
            # without a marked amount: in the currency the text names elsewhere when it
            # names only one, else the language's own.
            bare_money=_bare_money(text, lang, money_matches),
            published_year=pub_year,
            published_month=pub_month,
            main_org=_main_org(orgs, text),
        )
        ctx.ai_sentences = {i for i, cats in enumerate(ctx.sentence_cats) if "ai" in cats}
        deals_found = extract.extract_deals(ctx)
        layoffs_found = extract.extract_layoffs(ctx)
        if deals_found and layoffs_found:
            extract.recent_funding_of_cuts(ctx, deals_found, layoffs_found)

    topics = decide_topics(deals_found, layoffs_found, ai_spans)
    # One validation of plain dicts in pydantic-core is several times faster than
    # constructing every nested model in Python (the validator is called directly:
    # model_validate only wraps it).
    return _VALIDATE(
        {
            "text": text,
            "language": lang,
            "language_score": round(float(lang_score), 3),
            "topics": [
                {
                    "name": t.name,
                    "score": t.score,
                    "evidence": [_evidence(text, s, e) for s, e in t.evidence],
                }
                for t in topics
            ],
            "organizations": [
                {
                    "name": o.name,
                    "surface": text[o.start : o.end],
                    "start": o.start,
                    "end": o.end,
                    "known": o.known,
                    "wikidata": o.wikidata,
                }
                for o in orgs
            ],
            "people": [
                {"name": p.name, "surface": text[p.start : p.end], "start": p.start, "end": p.end}
                for p in people
            ],
            "money": [
                {
                    "value": float(m.value),
                    "currency": m.currency,
                    "value_usd": m.value_usd,
                    "surface": m.surface,
                    "start": m.start,
                    "end": m.end,
                }
                for m in money_matches
            ],
            "headcounts": [
                {
                    "value": int(c.value) if c.value is not None else None,
                    "percent": c.percent,
                    "surface": c.surface,
                    "start": c.start,
                    "end": c.end,
                }
                for c in count_matches
            ],
            "deals": [
                {
                    "investor": d.investor,
                    "target": d.target,
                    "co_investors": list(d.co_investors),
                    "amount_usd": d.amount.value_usd if d.amount else None,
                    "amount": float(d.amount.value) if d.amount else None,
                    "currency": d.amount.currency if d.amount else None,
                    "stage": d.stage,
                    "background": d.background,
                    "ai": d.ai,
                    "evidence": _evidence(text, *d.evidence),
                }
                for d in deals_found
            ],
            "layoffs": [
                {
                    "company": lay.company,
                    "headcount": lay.headcount,
                    "percent": lay.percent,
                    "background": lay.background,
                    "evidence": _evidence(text, *lay.evidence),
                }
                for lay in layoffs_found
            ],
            "rates_date": numbers.RATES_DATE,
        }
    )
