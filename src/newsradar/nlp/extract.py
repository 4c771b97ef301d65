"""Deals and layoffs: who invests in whom and how much, who cuts how many jobs.

Rules work per sentence on lexicon cue hits, organisation mentions and the amounts
and headcounts of `numbers` (every word list is lexicon data, per language):

- Investor-subject words ("invests", "investit", "investiert", "invierte", "backs"):
  the investor is the organisation before the word (skipping an apposition: "Meta,
  the parent of Facebook, ..."), the target the first one shortly after a target
  preposition ("in", "dans", "bei", "en"); in German verb-final clauses the
  "in <name> zu investieren" target precedes the verb. A name glued to a noun of
  investment ("xAI investment") is the target when it is an AI company.
- Raiser-subject words ("raises", "lève", "sammelt", "capta", "funding round"): the
  target is the subject, investors follow "led by", "mené par", "angeführt von",
  "liderada por", ...; a fund raising its own money is no deal.
- Anaphora: "the startup", "la start-up", "das KI-Start-up", "la compañía" as subject
  or target stand for the article's company (the first named in the headline).
- The amount is the nearest money of the sentence that is not a valuation ("valued
  at", "a $29bn valuation", "the 2 billion euro business"); a bracketed dollar
  conversion wins; a sentence with only an amount ("the deal would be worth $10bn")
  fills the article's single deal without one.
- Stage from the sentence's cues (denied > talks > completed > announced); background
  when the clause has a past-time cue ("already", "déjà", "bereits", "ya", a
  pluperfect) or a year well before the publication date. A round recalled in a story
  of job cuts at the same company is the article's deal all the same (see
  `recent_funding_of_cuts`).
- Layoffs: a word that alone means job cuts, or a cutting verb near a job noun or a
  headcount; negated clauses and short-time work do not count. The employer is the
  clause's subject, else a name no list knows right after the cut or headcount ("aux
  Verreries X", "la liquidation de X"), else the article's company when the sentence
  says "the company" or gives a figure: its first organisation in the headline, else
  an unknown name opening the headline with its verb or a colon ("X will 3.500 Jobs
  abbauen", "X : la liquidation ..."), else its first organisation.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Protocol

from newsradar.nlp.entities import (
    DEMONYM_ENDINGS,
    TITLES,
    OrgMention,
    clean_name,
    gazetteer,
    german_noun,
    name_rules,
    title_case,
)
from newsradar.nlp.lexicon import (
    CueHit,
    Lexicon,
    available_languages,
    lexicon,
    word_start_alternation,
    words_regex,
)
from newsradar.nlp.text import Span, split_clauses

INVEST_SUBJECT = frozenset({"invest", "invest_noun", "back", "back_weak", "acquire"})
RAISE_SUBJECT = frozenset({"raise", "raise_weak", "funding", "acquired_by"})
#: Cues that make a sentence about funding (a weak verb like "gets" needs one of them).
_FUNDING_CONTEXT = ("funding", "funding_context", "invest_noun", "valuation")
DEAL_CATEGORIES = INVEST_SUBJECT | RAISE_SUBJECT
_DEAL_SENTENCE_CATEGORIES = DEAL_CATEGORIES | {"investor_after", "investor_before", "amount"}
#: Organisation kinds never taken as investor or target, or as employer.
PASSIVE_KINDS = frozenset({"media"})
DEAL_PASSIVE_KINDS = PASSIVE_KINDS
LAYOFF_PASSIVE_KINDS = frozenset({"media", "union"})
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")

_ANY = re.compile(r"^ ")  # a "preposition" matching the start: the whole gap is checked
_RAISE_OR_INVEST = frozenset({"raise", "raise_weak", "invest", "back", "acquire"})
_CUT_CATEGORIES = frozenset({"layoff", "cut", "job"})
_POSSESSIVE = re.compile(r"^(?:'s?|s)?\s*$")


class AmountLike(Protocol):
    """What the rules read from a money amount (numbers.MoneyMatch has it)."""

    @property
    def value(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def value_usd(self) -> float | None: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class CountLike(Protocol):
    """What the rules read from a headcount (numbers.HeadcountMatch has it)."""

    @property
    def value(self) -> float | int | None: ...
    @property
    def percent(self) -> float | None: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(slots=True)
class AmountRef:
    """A money amount built by hand (tests, callers without numbers.MoneyMatch)."""

    value: float
    currency: str
    value_usd: float | None
    start: int
    end: int


@dataclass(slots=True)
class DealFound:
    """A deal before it becomes a `schema.Deal`."""

    investor: str | None
    target: str | None
    co_investors: list[str]
    amount: AmountLike | None
    stage: str | None
    background: bool
    evidence: tuple[int, int]
    ai: bool
    explicit_investor: bool = False
    lead: bool = False  # the investor was named by a lead phrase ("led by", "mené par")


@dataclass(slots=True)
class LayoffFound:
    """A layoff before it becomes a `schema.Layoff`."""

    company: str | None
    headcount: int | None
    percent: float | None
    background: bool
    evidence: tuple[int, int]


@dataclass(slots=True)
class Context:
    """Everything the extraction rules look at for one text."""

    norm: str
    lower: str
    lex: Lexicon
    lang: str
    hits: list[CueHit]
    orgs: list[OrgMention]
    money: Sequence[AmountLike]
    counts: Sequence[CountLike]
    sentences: list[Span]
    published_year: int | None
    published_month: int = 0
    bare_money: Sequence[AmountLike] = ()  # sums without a currency, in the local one
    ai_sentences: set[int] = field(default_factory=set)
    main_org: OrgMention | None = None
    sentence_hits: list[list[CueHit]] = field(default_factory=list)
    sentence_cats: list[dict[str, list[CueHit]]] = field(default_factory=list)
    views: dict[int, _Sentence] = field(default_factory=dict)

    def view(self, idx: int) -> _Sentence:
        """The per-sentence view of sentence `idx`, built once."""
        v = self.views.get(idx)
        if v is None:
            v = self.views[idx] = _Sentence(self, idx, self.sentences[idx])
        return v

    def __post_init__(self) -> None:
        """Bucket the cue hits by sentence once (hits and sentences are in text order)."""
        starts = [h.start for h in self.hits]
        buckets: list[list[CueHit]] = []
        for span in self.sentences:
            lo, hi = bisect_left(starts, span.start), bisect_left(starts, span.end)
            bucket = self.hits[lo:hi]
            if bucket and bucket[-1].end > span.end:
                bucket = [h for h in bucket if h.end <= span.end]
            buckets.append(bucket)
        self.sentence_hits = buckets
        self.sentence_cats = [_cats_all(b) for b in buckets]


def _in(span: Span, start: int, end: int | None = None) -> bool:
    return span.start <= start and (end if end is not None else start) <= span.end


def _clause_of(clauses: list[Span], pos: int) -> Span:
    for c in clauses:
        if c.start <= pos < c.end:
            return c
    return clauses[-1]


def _cats_all(hits: list[CueHit]) -> dict[str, list[CueHit]]:
    out: dict[str, list[CueHit]] = {}
    for h in hits:
        lst = out.get(h.category)
        if lst is None:
            out[h.category] = [h]
        else:
            lst.append(h)
    return out


def _cats(hits: list[CueHit], span: Span) -> dict[str, list[CueHit]]:
    out: dict[str, list[CueHit]] = {}
    for h in hits:
        if span.start <= h.start and h.end <= span.end:
            out.setdefault(h.category, []).append(h)
    return out


@cache
def _ai_name_re() -> re.Pattern[str]:
    """Name parts of AI companies from every lexicon ("AI", ".ai", "KI", "IA"): a name
    is in no language, so "Mistral AI" counts in a French text too."""
    parts = sorted(
        {t for code in available_languages() for t in lexicon(code).company.get("ai_name", ())}
    )
    alts = [
        rf"(?i:{re.escape(t)})\b" if t.startswith(".") else rf"\b{re.escape(t)}\b" for t in parts
    ]
    # Glued to the name as well: "FuriosaAI", "DarwinAI".
    alts += [rf"(?<=[a-z]){re.escape(t)}\b" for t in parts if t.isupper()]
    return re.compile("|".join(alts) or r"(?!x)x")


def _is_ai_org(org: OrgMention) -> bool:
    return org.kind == "ai_lab" or bool(_ai_name_re().search(org.name))


@cache
def _word_list_re(lang: str, key: str, whole: bool = False) -> re.Pattern[str]:
    """Regex of the lexicon's company/<key> words: found anywhere (as words), or, with
    `whole`, a string made only of them and spaces (joiners between co-investors)."""
    words = sorted(lexicon(lang).company.get(key, ()), key=len, reverse=True)
    if not words:
        return re.compile(r"(?!x)x")
    if whole:
        body = "|".join(re.escape(w.lower()) for w in words)
        return re.compile(rf"^(?:\s*(?:{body})\s*)+$")
    return re.compile(rf"{word_start_alternation([w.lower() for w in words])}(?!\w)")


def _year_marks_past(ctx: Context, clause: Span) -> bool:
    """A year in the clause well before the publication date marks a recalled event:
    two years before, or the previous year once the first quarter is over."""
    if ctx.published_year is None:
        return False
    limit = ctx.published_year - (1 if ctx.published_month >= 4 else 2)
    founded = _founded_re(ctx.lang)
    for m in _YEAR.finditer(ctx.norm, clause.start, clause.end):
        if int(m.group(1)) > limit:
            continue
        if any(c.start <= m.start() < c.end for c in ctx.counts) or any(
            c.start <= m.start() < c.end for c in ctx.money
        ):
            continue  # "Rund 2000 Jobs fallen weg": a number of people or money, no year
        near = ctx.lower[max(clause.start, m.start() - 20) : min(clause.end, m.end() + 15)]
        if founded.search(near):
            continue  # "Das 2021 gegründete Start-up", "founded in 2019": no recalled deal
        return True
    return False


@cache
def _founded_re(lang: str) -> re.Pattern[str]:
    """Words of a company's founding, which dates the company rather than the deal."""
    words = sorted(
        {
            w.lower()
            for code in available_languages()
            for w in lexicon(code).extra.get("founded") or ()
        },
        key=len,
        reverse=True,
    )
    if not words:
        return re.compile(r"(?!x)x")
    return re.compile(word_start_alternation(words))


@cache
def _anaphor_re(lang: str) -> re.Pattern[str]:
    """Determiner, up to two words, and a head noun that refers back ("the French firm")."""
    lex = lexicon(lang)
    dets = sorted({d.lower() for d in lex.company.get("determiners", ())}, key=len, reverse=True)
    heads = sorted(
        {h.strip("*").lower() for h in lex.cues.get("anaphor", ())}, key=len, reverse=True
    )
    if not dets or not heads:
        return re.compile(r"(?!x)x")
    det = "|".join(re.escape(d) for d in dets)
    head = "|".join(re.escape(h) for h in heads)
    return re.compile(rf"(?:{det})(?:\s|(?<='))(?:[\w-]+\s+){{0,2}}?[\w-]*(?:{head})(?!\w)")


class _Sentence:
    """Per-sentence view: organisations, amounts, counts, cues, clauses."""

    __slots__ = (
        "_clause_cats",
        "cash",
        "cats",
        "clauses",
        "counts",
        "employers",
        "hits",
        "idx",
        "money",
        "orgs",
        "span",
    )

    def __init__(self, ctx: Context, idx: int, span: Span) -> None:
        self.idx = idx
        self.span = span
        start, end = span.start, span.end
        self.orgs = [
            o
            for o in ctx.orgs
            if start <= o.start and o.end <= end and o.kind not in DEAL_PASSIVE_KINDS
        ]
        # A news organisation opening the headline is the subject, not a source
        # ("Los Angeles Times newsroom hit by layoffs", unlike "Reuters: Meta cuts ...").
        opener = [
            o
            for o in ctx.orgs
            if idx == 0
            and o.kind == "media"
            and o.start == start
            and ctx.norm[o.end : o.end + 2] not in (": ", " :")
        ]
        self.employers = (
            opener
            + [
                o
                for o in self.orgs
                if o.kind not in LAYOFF_PASSIVE_KINDS
                # not "SoftBank-backed Mapvista cuts 20%": a name glued to an attribute
                and not (
                    ctx.norm[o.end : o.end + 1] == "-" and ctx.norm[o.end + 1 : o.end + 2].islower()
                )
            ]
        )
        self.money = [m for m in ctx.money if start <= m.start and m.end <= end]
        self.counts = [c for c in ctx.counts if start <= c.start and c.end <= end]
        self.hits = ctx.sentence_hits[idx]
        self.cats = ctx.sentence_cats[idx]
        self.clauses = split_clauses(ctx.norm, span)
        self._clause_cats: dict[int, dict[str, list[CueHit]]] = {}
        self.cash: list[AmountLike] | None = None  # amounts that are not valuations

    def clause_cats(self, clause: Span) -> dict[str, list[CueHit]]:
        """Cue hits of one clause of this sentence, by category (computed once)."""
        cats = self._clause_cats.get(clause.start)
        if cats is None:
            cats = self._clause_cats[clause.start] = _cats(self.hits, clause)
        return cats

    def negated(self, ctx: Context, pos: int, window: int = 60) -> bool:
        """A negation cue before `pos` in the same clause, within `window` characters."""
        clause = _clause_of(self.clauses, pos)
        lo = max(clause.start, pos - window)
        return any(lo <= h.start < pos for h in self.cats.get("negation", ()))


def _valuation(ctx: Context, s: _Sentence, amount: AmountLike) -> bool:
    """True when the amount is a valuation rather than cash invested.

    A valuation cue right before or after it ("valued at $2bn", "a $29bn valuation"),
    or an attribute of a company noun after a definite article ("in the 2 billion euro
    business"); a bracketed conversion of such an amount is one too.
    """
    for h in s.cats.get("valuation", ()):
        if amount.start - 45 <= h.start <= amount.start or 0 <= h.start - amount.end <= 3:
            between = ctx.lower[min(h.end, amount.end) : max(h.start, amount.start)]
            verb = any(
                h.end <= c.start and c.end <= amount.start and c.category in _RAISE_OR_INVEST
                for c in s.hits
            )
            if ("," not in between or len(between) < 6) and not verb:
                # not "La licorne Nexo AI lève 200 M$": a raising verb sits in between
                return True
    head = ctx.lower[max(s.span.start, amount.start - 6) : amount.start].rstrip(" (")
    word = head.rsplit(" ", 1)[-1]
    if word in _definite(ctx.lang):
        nouns = [h for h in s.cats.get("anaphor", ()) if 0 <= h.start - amount.end <= 45]
        invest = [h for h in s.cats.get("invest_noun", ()) if 0 <= h.start - amount.end <= 45]
        # "the $200m Series C in the start-up": a round's amount, not an attribute.
        round_next = any(0 <= h.start - amount.end <= 3 for h in s.cats.get("funding", ()))
        if nouns and not round_next and (not invest or nouns[0].start < invest[0].start):
            return True
    for m in s.money:
        if (
            m is not amount
            and 0 < amount.start - m.end <= 3
            and "(" in ctx.norm[m.end : amount.start]
        ):
            return _valuation(ctx, s, m)
    return False


@cache
def _definite(lang: str) -> frozenset[str]:
    return frozenset(d.lower() for d in lexicon(lang).company.get("determiners", ()))


def _pick_amount(ctx: Context, s: _Sentence, cue: CueHit) -> AmountLike | None:
    """The money of this deal: nearest non-valuation amount, preferring after the cue."""
    if s.cash is None:
        s.cash = [m for m in s.money if not _valuation(ctx, s, m)]
        if not s.cash and ctx.bare_money:
            # "invierte 12 millones en una startup": the local currency is meant.
            bare = [m for m in ctx.bare_money if s.span.start <= m.start and m.end <= s.span.end]
            s.cash = [m for m in bare if not _valuation(ctx, s, m)]
    cands = s.cash
    if not cands:
        return None
    after = [m for m in cands if m.start >= cue.start]
    before = [m for m in cands if m.end <= cue.start and cue.start - m.end < 60]
    if after and (not before or after[0].start - cue.end <= cue.start - before[-1].end + 20):
        picked = after[0]
    elif before:
        picked = before[-1]
    else:
        picked = cands[0]
    # "€15 million ($16.3 million)": the text's own conversion to dollars wins.
    for m in cands:
        if (
            m.currency == "USD"
            and picked.currency != "USD"
            and 0 < m.start - picked.end <= 3
            and "(" in ctx.norm[picked.end : m.start]
        ):
            return m
    return picked


@cache
def _lead_markers(lang: str) -> tuple[str, ...]:
    """Parts of an investor phrase that name the lead ("led by", "mené par")."""
    return tuple(lexicon(lang).extra.get("lead_markers") or ())


def _lead_phrase(ctx: Context, s: _Sentence, found: list[OrgMention]) -> bool:
    """True when the investor phrase right before the first of `found` names a lead."""
    if not found:
        return False
    markers = _lead_markers(ctx.lang)
    for h in s.cats.get("investor_after", ()):
        if h.end <= found[0].start and found[0].start - h.end <= 40:
            phrase = ctx.lower[h.start : h.end]
            if any(m in phrase for m in markers):
                return True
    return False


def _investors_after(ctx: Context, s: _Sentence, cue_end: int) -> list[OrgMention]:
    """Organisations named right after "led by" / "mené par" / ..., with co-investors.

    With several such phrases, the one naming the lead wins ("la start-up respaldada por
    OpenAI fue liderada por Menlo Ventures"), else the first.
    """
    groups: list[tuple[bool, list[OrgMention]]] = []
    markers = _lead_markers(ctx.lang)
    for h in s.cats.get("investor_after", ()):
        if h.start < cue_end - 1:
            continue
        after = [o for o in s.orgs if o.start >= h.end and o.start - h.end <= 40]
        if not after:
            continue
        first = after[0]
        gap = ctx.lower[h.end : first.start]
        if len(gap.split()) > 3:
            continue
        found = [first]
        last = first
        for o in s.orgs:
            if o.start <= last.start:
                continue
            words = ctx.lower[last.end : o.start].split()
            if len(words) > 1 and words[-1].rstrip("'’") in _link_words(ctx.lang):
                words.pop()  # "Sequoia et de Coatue"
            if _word_list_re(ctx.lang, "joiners", whole=True).match(" ".join(words)):
                found.append(o)
                last = o
            else:
                break
        phrase = ctx.lower[h.start : h.end]
        groups.append((any(m in phrase for m in markers), found))
    if not groups:
        return []
    return next((g for lead, g in groups if lead), groups[0][1])


def _led_prefix(ctx: Context, s: _Sentence, cue: CueHit) -> list[OrgMention]:
    """The lead named as a prefix near the cue: "after a Greenoaks-led raise"."""
    for o in s.orgs:
        if ctx.lower.startswith("-led ", o.end) and abs(cue.start - o.end) <= 40:
            return [o]
    return []


def _investor_by_link(
    ctx: Context, s: _Sentence, pos: int, target: OrgMention | None
) -> OrgMention | None:
    """The first organisation after `pos` (within 60 characters) introduced by a linking
    word ("de Capgemini", "de Telefónica", "von Lakestar", "of Sequoia"): who gives the
    money named by a receiving verb or a noun of investment."""
    links = _link_words(ctx.lang)
    for o in s.orgs:
        if o.start < pos or o.start - pos > 60 or (target is not None and o.name == target.name):
            continue
        head = ctx.lower[max(pos, o.start - 6) : o.start]
        word = head.rstrip().rsplit(" ", 1)[-1]
        if word in links or head.endswith(("d'", "d’")):
            return o
        break
    return None


@cache
def _link_words(lang: str) -> frozenset[str]:
    lex = lexicon(lang)
    words = {w.lower().rstrip("'") for w in lex.company.get("links", ())}
    return frozenset(words | set(lex.extra.get("investor_links") or ()))


def _subject_before(ctx: Context, s: _Sentence, pos: int) -> OrgMention | None:
    """The organisation a verb at `pos` most likely has as subject.

    The nearest organisation before it, skipping an apposition ("Meta, the parent of
    Facebook, Instagram and WhatsApp, is in talks ...") back to the name it describes:
    when the nearest name is in an earlier clause, walk back (at most three clauses)
    to one that opens with an article and take the name that ends just before it.
    """
    before = [o for o in s.orgs if o.end <= pos]
    if not before:
        return None
    near = before[-1]
    clauses = s.clauses
    cue_clause = _clause_of(clauses, pos)
    i = clauses.index(_clause_of(clauses, near.start))
    if clauses[i] is cue_clause and i > 0 and ctx.lower[clauses[i].start : near.start].strip():
        return near  # the name is inside the verb's own clause, after other words
    articles = _articles(ctx.lang)
    for j in range(i, max(0, i - 3), -1):
        c = clauses[j]
        if j == 0 or ctx.norm[c.start - 2 : c.start] != ", ":
            break
        first = ctx.lower[c.start : c.end].split(" ", 1)[0]
        if first in articles:
            prev = [o for o in before if o.end <= c.start - 2]
            if prev and ctx.norm[prev[-1].end : c.start - 2].strip() == "":
                return prev[-1]
            break
    return near


@cache
def _articles(lang: str) -> frozenset[str]:
    company = lexicon(lang).company
    return frozenset(
        d.lower() for d in (*company.get("determiners", ()), *company.get("indefinite", ()))
    )


_CLAUSE_MARKS = frozenset(',;:()"“”«»„')


def _prep_close(prep: re.Pattern[str], between: str, lang: str = "en") -> bool:
    """A target preposition shortly before the organisation ("in ChatGPT maker X"):
    at most four words (six with a company noun: "sur la pépite lilloise de l'IA X")
    and no clause mark between the last preposition and the name."""
    matches = list(prep.finditer(between))
    if not matches:
        return False
    tail = between[matches[-1].end() :]
    if any(c in tail for c in _CLAUSE_MARKS):
        return False
    words = tail.split()
    if len(words) <= 4:
        return True
    nouns = _company_nouns(lang)
    return len(words) <= 6 and any(w.split("'")[-1] in nouns for w in words)


def _subject_adjacent(ctx: Context, org: OrgMention, pos: int) -> bool:
    """True when only auxiliaries ("has", "a", "hat") separate `org` from `pos`."""
    gap = ctx.lower[org.end : pos].split()
    aux = _aux_words(ctx.lang)
    return len(gap) <= 3 and all(w in aux for w in gap)


@cache
def _aux_words(lang: str) -> frozenset[str]:
    return frozenset(w for a in lexicon(lang).company.get("aux", ()) for w in a.lower().split())


def _after_prep(ctx: Context, s: _Sentence, pos: int) -> OrgMention | None:
    """An organisation before `pos` introduced by a target preposition (German verb-final:
    "in das KI-Startup Aleph Alpha zu investieren")."""
    prep = words_regex(ctx.lang, "target_prep")
    clause = _clause_of(s.clauses, pos)
    for o in reversed([o for o in s.orgs if clause.start <= o.start and o.end <= pos]):
        head = ctx.lower[max(clause.start, o.start - 40) : o.start]
        last = list(prep.finditer(head))
        if last and len(head[last[-1].end() :].split()) <= 3:
            return o
    return None


def _other_org(ctx: Context, s: _Sentence, exclude: str | None) -> OrgMention | None:
    """The article's main organisation other than `exclude`, preferring AI companies."""
    pool = [
        o for o in ctx.orgs if not _same_investor(o.name, exclude) and o.kind not in PASSIVE_KINDS
    ]
    ai = [o for o in pool if _is_ai_org(o)]
    best = ai or pool
    return best[0] if best else None


def _deal_for_cue(ctx: Context, s: _Sentence, cue: CueHit) -> DealFound | None:
    """Investor, target, amount, stage and background around one investment cue."""
    clause = _clause_of(s.clauses, cue.start)
    if s.negated(ctx, cue.start, 25) and not s.cats.get("denied"):
        return None
    if cue.category == "back_weak" and not (s.money or any(k in s.cats for k in _FUNDING_CONTEXT)):
        return None  # "Apple leads Samsung in sales" is no deal
    if cue.category in RAISE_SUBJECT and _opens_clause(ctx, cue.end):
        return None  # "asegura que ...", "secures that ...": a statement, not money raised
    if cue.category == "funding" and any(
        h.category in _CUT_CATEGORIES and 0 <= h.start - cue.end <= 8 for h in s.hits
    ):
        return None  # "a new round of layoffs", "una nueva ronda de recortes"
    investor: OrgMention | None = None
    target: OrgMention | None = None
    co_leads: list[OrgMention] = []
    explicit = _investors_after(ctx, s, cue.end) or _led_prefix(ctx, s, cue)
    if cue.category == "acquire":
        explicit = []  # "takes control of Boston Dynamics from SoftBank": the seller
    anaphor = _anaphor_re(ctx.lang)
    cat = cue.category
    if cat == "invest_noun" and any(
        h.category in ("raise", "raise_weak") and clause.start <= h.start < cue.start
        for h in s.hits
    ):
        return None  # "Oriel reçoit un investissement de ...": the receiving verb's deal
    if cat in INVEST_SUBJECT:
        before = [o for o in s.orgs if o.end <= cue.start]
        prep_target = _after_prep(ctx, s, cue.start) if cat == "invest" else None
        if prep_target is not None:
            target = prep_target
            investor = _subject_before(ctx, s, prep_target.start)
        elif before:
            near = before[-1]
            gap = ctx.norm[near.end : cue.start]
            if (
                cat == "invest_noun"
                and gap.strip(" -") == ""
                and "'" not in gap
                and _is_ai_org(near)
            ):
                target = near  # "xAI investment", "OpenAI-Investition"
                investor = _subject_before(ctx, s, near.start)
            else:
                investor = _subject_before(ctx, s, cue.start)
                lead_in = ctx.lower[max(clause.start, near.start - 30) : near.start]
                if (
                    investor is near
                    and len(before) > 1
                    and words_regex(ctx.lang, "target_prep").search(lead_in) is not None
                    and _prep_close(words_regex(ctx.lang, "target_prep"), lead_in + " ")
                    and _is_ai_org(near)
                ):
                    # "Amazon doubles down on Anthropic with another $4bn investment"
                    target, investor = near, before[0]
        # "Thrive Capital led the round, with GV ...": the object is the round itself, so
        # the company funded is the article's, not a name after a clause mark.
        # "ICONIQ y General Catalyst codirigen la serie B": an article may come between.
        round_object = cat == "back_weak" and any(
            cue.start <= h.start <= _round_reach(ctx, s, cue.end)
            and not _has_clause_mark(ctx, cue.end, h.start)
            for k in _FUNDING_CONTEXT
            for h in s.cats.get(k, ())
        )
        if round_object and investor is not None and explicit:
            # "Lux Capital mène ce tour, aux côtés de Sequoia": the others take part.
            co_leads, explicit = list(explicit), []
        if round_object and investor is not None:
            chain = _coordinated_before(ctx, s, investor)
            if chain:  # "A y B codirigen la serie B": A leads, B co-leads
                investor, co_leads = chain[0], [*chain[1:], investor, *co_leads]
        if target is None:
            prep = words_regex(ctx.lang, "target_prep")
            tail = ctx.lower[cue.end : min(clause.end + 60, s.span.end)]
            after = [o for o in s.orgs if o.start >= cue.end]
            for k, o in enumerate(after):
                nxt = after[k + 1] if k + 1 < len(after) else None
                if nxt is not None and _attribute_of(ctx, o, nxt):
                    continue  # "in Character.AI rival Anthropic": the second name
                between = ctx.lower[cue.end : o.start]
                share = "%" in cue.phrase or "prozent" in cue.phrase
                if share and any(
                    h.category == "job" and cue.end <= h.start < o.start for h in s.hits
                ):
                    break  # "cuts 14% of staff following Meta's ...": a share of the workforce
                if round_object and any(c in between for c in _CLAUSE_MARKS):
                    break
                if cat in ("back", "back_weak") and (
                    len(between.split()) <= 3
                    or (share and _prep_close(_ANY, " " + between, ctx.lang))
                ):
                    target = o  # "por el 20 % de la startup de IA Kairos": a company noun phrase
                    break
                if (
                    cat == "acquire"
                    and len(between.split()) <= 6
                    and not _has_clause_mark(ctx, cue.end, o.start)
                ):
                    target = o  # "to buy legal AI start-up Casetext": the object is bought
                    break
                if len(between) <= 90 and _prep_close(prep, between, ctx.lang):
                    target = o
                    break
                if round_object and _prep_close(_round_for_re(ctx.lang), between, ctx.lang):
                    target = o  # "join a $100m round for chip start-up Rebellions"
                    break
            if (
                target is None
                and round_object
                and ctx.main_org is not None
                and (investor is None or ctx.main_org.name != investor.name)
            ):
                target = ctx.main_org
            if target is None:
                pm = prep.search(tail)
                if pm and anaphor.match(tail, pm.end() + 1) and pm.start() < 60:
                    target = _other_org(ctx, s, investor.name if investor else None)
                elif cat == "acquire" and anaphor.match(tail.lstrip()):
                    # "acquiert cette société israélienne": the company bought is the
                    # article's other one (the buyer is resolved below).
                    buyer = investor or ctx.main_org
                    target = _other_org(ctx, s, buyer.name if buyer else None)
        if investor is None and not before and not explicit and cat == "invest_noun":
            # "Investissement de 50 M€ de Capgemini dans X", "Inversión de Iberdrola en X"
            investor = _investor_by_link(ctx, s, cue.end, target)
        if investor is None and not before and not explicit and ctx.main_org is not None:
            # "The retailer takes a minority stake in ...": the article's company invests.
            head = ctx.lower[clause.start : cue.start].lstrip(" \"'«“")
            # "The retailer takes ...", "Für 15 Millionen Euro übernimmt das Unternehmen ..."
            # German verb-second: "beteiligt sich der Konzern mit 20 Millionen an ..."
            tail = ctx.lower[cue.end : min(clause.end, cue.end + 25)]
            subject_after = anaphor.match(tail.lstrip()) or anaphor.match(
                tail.lstrip().partition(" ")[2]
            )
            if (anaphor.search(head) or subject_after) and (
                target is None or ctx.main_org.name != target.name
            ):
                investor = ctx.main_org
        if explicit:
            if investor is not None and target is None:
                target = investor
            investor = explicit[0]
    else:
        before = [o for o in s.orgs if o.end <= cue.start]
        head = ctx.lower[s.span.start : cue.start]
        stripped = head.lstrip(" \"'«“")
        am = anaphor.match(stripped)
        lead = s.span.start + len(head) - len(stripped)
        named_after = am is not None and any(0 <= o.start - (lead + am.end()) <= 3 for o in s.orgs)
        companies = [o for o in before if o.kind != "investor"]
        adjacent = companies and _subject_adjacent(ctx, companies[-1], cue.start)
        inner = None if am is not None or companies else anaphor.search(head)
        if am is not None and not named_after and ctx.main_org is not None:
            target = ctx.main_org  # "La start-up ... lève 450 millions"
        elif (
            inner is not None
            and ctx.main_org is not None
            and ctx.main_org.kind != "investor"
            and all(o.start >= s.span.start + inner.end() for o in before)
        ):
            # "Erst vor einem Monat hatte das Berliner Start-up 50 Millionen Euro in einer
            # von Earlybird angeführten Runde eingesammelt": the subject after the verb.
            target = ctx.main_org
        elif adjacent:
            target = companies[-1]  # "Former Google engineers' startup Lumen raises"
        elif companies:
            target = companies[0]  # "Stability AI gets Intel backing in new financing"
        elif before:
            return None  # a fund raising its own money
        else:
            after = [o for o in s.orgs if o.start >= cue.end]
            if after and not explicit:
                target = after[0]
        if not explicit and ctx.lang == "de":
            # Verb-final German: "in einer von Earlybird angeführten Runde eingesammelt".
            explicit = [
                o
                for o in _investors_after(ctx, s, clause.start + 1)
                if clause.start <= o.start < cue.start and (target is None or o.name != target.name)
            ]
        investor = explicit[0] if explicit else _investor_by_link(ctx, s, cue.end, target)
        if cat in ("raise", "raise_weak") and (
            any(
                0 <= h.start - cue.end <= 40 and _in(clause, h.start)
                for h in s.cats.get("not_funding", ())
            )
            or not (
                s.money
                or any(k in s.cats for k in _FUNDING_CONTEXT)
                # "capta 135 millones": a sum without currency counts too
                or any(s.span.start <= m.start < s.span.end for m in ctx.bare_money)
            )
        ):
            return None  # "raises prices", "gets a $1bn loan", "raise the alarm"
        if (
            cat == "raise_weak"
            and target is not None
            and target.known
            and not _is_ai_org(target)
            # "Neura Robotics erhält 55 Mio. Euro. ... die Finanzierungsrunde": the
            # article, not only the sentence, may say it is funding.
            and not any(k in cats for cats in ctx.sentence_cats for k in _FUNDING_CONTEXT)
        ):
            return None  # "Apple gets a $1bn tax bill" is no funding
        fund = [
            h
            for h in s.clause_cats(clause).get("fund", ())
            if not (  # "led by Founders Fund": a name part of another organisation
                ctx.norm[h.start].isupper()
                and any(o.start <= h.start < o.end and o is not target for o in s.orgs)
            )
        ]
        if fund and cat in ("raise", "raise_weak"):
            return None
    if target is None and cat == "back" and ("%" in cue.phrase or "prozent" in cue.phrase):
        return None  # "cuts 14% of staff": a share bought only with a company right after
    if target is not None and investor is not None and target.name == investor.name:
        investor = None
    if target is None and investor is not None:
        # Last resort: another organisation of the same clause ("X lays off staff
        # following Meta's investment", "X gets Intel backing").
        named = {investor.name, *(o.name for o in (*explicit, *co_leads))}
        local = [o for o in s.orgs if _in(clause, o.start, o.end) and o.name not in named]
        others = [o for o in local if o.start > investor.end] or local
        ai_others = [o for o in others if _is_ai_org(o)]
        best = ai_others or others
        target = best[0] if best else None
        if (
            cat in RAISE_SUBJECT
            and ctx.main_org is not None
            and ctx.main_org.name not in named
            and (
                anaphor.search(ctx.lower, s.span.start, cue.end + 40) is not None
                # "La ronda serie G de la estadounidense": a demonym standing for it
                or _demonym_ref_re(ctx.lang).search(ctx.lower, s.span.start, cue.end + 40)
                is not None
            )
        ):
            # "La ronda de la start-up respaldada por OpenAI fue liderada por Menlo": the
            # round is the article's company's; other names describe it.
            target = ctx.main_org
        if target is None and s.orgs and s.orgs[0].name not in named:
            target = s.orgs[0]  # the sentence's subject: "X laid off staff after Meta took a stake"
        if (
            target is None
            and explicit
            and cat in RAISE_SUBJECT
            and ctx.main_org is not None
            and ctx.main_org.name not in named
        ):
            target = ctx.main_org  # "... après une levée menée par Eurazeo": the article's company
    if target is None and investor is None:
        return None
    amount = _pick_amount(ctx, s, cue)
    ai = (target is not None and _is_ai_org(target)) or s.idx in ctx.ai_sentences
    co = [
        o.name
        for o in (*explicit[1:], *co_leads)
        if (investor is None or o.name != investor.name) and (target is None or o is not target)
    ]
    return DealFound(
        investor=investor.name if investor else None,
        target=target.name if target else None,
        co_investors=co,
        amount=amount,
        stage=_stage(ctx, s, clause),
        background=_background(ctx, s, clause, attributes=cat in INVEST_SUBJECT),
        evidence=(cue.start, cue.end),
        ai=ai,
        explicit_investor=bool(explicit),
        lead=_lead_phrase(ctx, s, explicit),
    )


def _opens_clause(ctx: Context, pos: int) -> bool:
    """Whether the word after `pos` opens a reported clause ("que", "that", "dass")."""
    words = _lang_words_company(ctx.lang, "complementizers")
    nxt = ctx.lower[pos : pos + 8].split(" ", 2)
    word = nxt[1] if len(nxt) > 1 and nxt[0] == "" else ""
    return word in words or any(word.startswith(w) for w in words if w.endswith("'"))


def _has_clause_mark(ctx: Context, start: int, end: int) -> bool:
    return any(c in _CLAUSE_MARKS for c in ctx.norm[start:end])


def _round_reach(ctx: Context, s: _Sentence, pos: int) -> int:
    """How far after a lead verb the round may be named: past an article ("the", "la")
    and an amount ("co-led the $260m Series E")."""
    reach = pos + 5
    for m in s.money:
        if pos <= m.start <= pos + 5:
            reach = m.end + 1
    return reach


def _coordinated_before(ctx: Context, s: _Sentence, org: OrgMention) -> list[OrgMention]:
    """Organisations joined to `org` before it ("A, B et la montréalaise C"), first first.

    Between two names only joiners, articles and at most two lower-case words (an
    adjective such as "montréalaise") may stand.
    """
    joiners = {w.lower() for w in lexicon(ctx.lang).company.get("joiners", ())}
    before = [o for o in s.orgs if o.end <= org.start]
    chain: list[OrgMention] = []
    last = org
    for o in reversed(before):
        words = ctx.lower[o.end : last.start].replace(",", " , ").split()
        lead = 0
        while lead < len(words) and words[lead] in joiners:
            lead += 1
        rest = words[lead:]
        if not lead or len(rest) > 2 or not all(w.isalpha() for w in rest):
            break
        chain.insert(0, o)
        last = o
    return chain


def _attribute_of(ctx: Context, first: OrgMention, second: OrgMention) -> bool:
    """True when `first` only qualifies `second` through a company noun between them
    ("Character.AI rival Anthropic", "ChatGPT maker OpenAI")."""
    gap = ctx.lower[first.end : second.start].strip()
    return bool(gap) and " " not in gap and gap in _company_nouns(ctx.lang)


@cache
def _company_nouns(lang: str) -> frozenset[str]:
    lex = lexicon(lang)
    words = [*lex.company.get("before", ()), *lex.cues.get("anaphor", ())]
    return frozenset(w.strip("*").lower() for w in words if " " not in w.strip())


def _stage(ctx: Context, s: _Sentence, clause: Span) -> str | None:
    cats = s.cats
    if cats.get("denied"):
        return "denied"
    clause_cats = s.clause_cats(clause)
    if cats.get("talks") and not clause_cats.get("completed"):
        return "talks"
    if clause_cats.get("completed") or cats.get("completed"):
        return "completed"
    if cats.get("announced"):
        return "announced"
    return None


def _background(ctx: Context, s: _Sentence, clause: Span, attributes: bool = True) -> bool:
    """A past cue in the clause, or a year well before publication.

    Without `attributes`, past cues glued to a name ("Nvidia-backed") do not count: in
    "Nvidia-backed Perplexity raises $500m" or "SoftBank-backed Mapbox cuts 20%" they
    describe the company, not the news.
    """
    past = s.clause_cats(clause).get("past")
    if past and not attributes:
        past = [h for h in past if not h.phrase.startswith("*-")]
    if past:
        return True
    return _year_marks_past(ctx, clause)


def _investors_only(
    ctx: Context, s: _Sentence, investors: list[OrgMention], evidence_end: int, lead: bool
) -> DealFound:
    """A deal known so far by its investors alone (the first is the lead); merging with the
    sentence's other deals gives it its target."""
    first = investors[0]
    return DealFound(
        investor=first.name,
        target=None,
        co_investors=[o.name for o in investors[1:]],
        amount=None,
        stage=None,
        background=_background(ctx, s, _clause_of(s.clauses, first.start)),
        evidence=(first.start, evidence_end),
        ai=False,
        explicit_investor=True,
        lead=lead,
    )


def extract_deals(ctx: Context) -> list[DealFound]:
    """All deals of the text, merged per (investor, target, background)."""
    found: list[DealFound] = []
    amounts: list[tuple[AmountLike, bool, str | None]] = []
    for idx, span in enumerate(ctx.sentences):
        cats = ctx.sentence_cats[idx]
        if not (cats.keys() & _DEAL_SENTENCE_CATEGORIES):
            continue
        if not any(span.start <= o.start < span.end for o in ctx.orgs) and not any(
            span.start <= m.start < span.end for m in ctx.money
        ):
            continue  # no organisation and no amount: nothing to extract here
        cues = [h for h in ctx.sentence_hits[idx] if h.category in DEAL_CATEGORIES]
        has_inv_after = "investor_after" in cats
        # A deal word inside an investor phrase ("con la participación de Accel") or a
        # fund's description ("le fonds d'investissement de la famille") is no deal.
        spans = [(h.start, h.end) for h in (*cats.get("investor_after", ()), *cats.get("fund", ()))]
        if spans:
            cues = [
                h
                for h in cues
                if not any(
                    a <= h.start and h.end <= b and (a, b) != (h.start, h.end) for a, b in spans
                )
            ]
        amount_cues = cats.get("amount", [])
        s = ctx.view(idx)
        n_before = len(found)
        idle = list(cues)  # cues that gave no deal of their own
        if s.orgs:
            last_end = -1
            idle = []
            for h in cues:
                if h.start < last_end:
                    continue  # overlapping cue ("invest" inside "invests in")
                last_end = h.end
                deal = _deal_for_cue(ctx, s, h)
                if deal is not None:
                    found.append(deal)
                else:
                    idle.append(h)
        elif "anaphor" in cats and ctx.main_org is not None:
            # "Le géant ... acquiert cette société israélienne": both parties referred back
            # to; a purchase names the article's two companies. "Der Dresdner Anbieter ...
            # hat 84 Millionen Dollar erhalten": the article's company raises.
            for h in cues:
                if (
                    (
                        (h.category == "acquire" and len(ctx.orgs) > 1)
                        # With an investor phrase in the summary ("Angeführt wird die Runde von
                        # X"): the round the article's company raised ("der Anbieter hat ...").
                        or (
                            h.category in ("raise", "raise_weak")
                            and s.money
                            and any("investor_after" in c for c in ctx.sentence_cats[1:])
                        )
                    )
                    and (deal := _deal_for_cue(ctx, s, h)) is not None
                ):
                    found.append(deal)
        used = {id(d.amount) for d in found[n_before:] if d.amount is not None}
        if len(found) > n_before:
            # "La eléctrica, que ya invirtió 5 millones en 2022, aporta ahora 12 millones":
            # a cue with no named party may still carry the amount of the article's deal.
            idle = [h for h in idle if h.category in _RAISE_OR_INVEST]
        if (idle or amount_cues) and s.money:
            # "The deal would be worth $10 billion": an amount for the article's deal.
            for cue in idle or amount_cues[:1]:
                amount = _pick_amount(ctx, s, cue)
                if amount is None or id(amount) in used:
                    continue
                used.add(id(amount))
                clause = _clause_of(s.clauses, cue.start)
                # With only an amount cue, a past word dates the report, not the deal
                # ("media had previously said it would amount to $10 billion").
                past = _background(ctx, s, clause) if idle else _year_marks_past(ctx, clause)
                amounts.append((amount, past, _stage(ctx, s, clause)))
        for h in cats.get("investor_before", ()):
            # "Waabi obtient 200 M$, Uber en tête": the name right before is the lead.
            lead_org = next((o for o in s.orgs if 0 <= h.start - o.end <= 2), None)
            if lead_org is not None:
                found.append(
                    DealFound(
                        investor=lead_org.name,
                        target=None,
                        co_investors=[],
                        amount=None,
                        stage=None,
                        background=_background(ctx, s, _clause_of(s.clauses, h.start)),
                        evidence=(lead_org.start, h.end),
                        ai=False,
                        explicit_investor=True,
                        lead=True,
                    )
                )
        first_inv = cats["investor_after"][0].start if has_inv_after else -1
        if has_inv_after and not any(h.start < first_inv for h in cues):
            # "Le tour est co-mené par A et B, le fonds ...": investors of the article's deal.
            inv = _investors_after(ctx, s, span.start)
            if inv:
                found.append(_investors_only(ctx, s, inv, inv[0].end, _lead_phrase(ctx, s, inv)))
        # Verb-final languages only (German): "A und B haben die Runde angeführt."
        lead_final = (
            _lead_at_clause_end(ctx, s)
            if has_inv_after and ctx.lex.extra.get("capitalised_nouns")
            else []
        )
        if lead_final:
            found.append(_investors_only(ctx, s, lead_final, lead_final[-1].end, True))
    found += _amount_for_headline(ctx)
    deals = _merge_deals(found)
    _mark_ai(ctx, deals)
    live = [i for i, d in enumerate(deals) if not d.background and d.amount is None]
    fresh = [(a, st) for a, bg, st in amounts if not bg]
    if len(live) == 1 and fresh and all(d.background or d.amount is None for d in deals):
        i = live[0]
        deals[i] = replace(deals[i], amount=fresh[0][0], stage=deals[i].stage or fresh[0][1])
    return deals


def _lead_at_clause_end(ctx: Context, s: _Sentence) -> list[OrgMention]:
    """The names opening the sentence when a lead word closes its clause, German
    verb-final: "Tiger Global und Insight Partners haben die Serie C ... angeführt."."""
    for h in s.cats.get("investor_after", ()):
        if ctx.norm[h.end : h.end + 1] not in (".", ",", ";", "") and h.end < s.span.end:
            continue
        phrase = ctx.lower[h.start : h.end]
        if not any(m in phrase for m in _lead_markers(ctx.lang)):
            continue
        first = s.orgs[0] if s.orgs else None
        if first is None or first.start >= h.start:
            return []
        if ctx.norm[s.span.start : first.start].strip(" \"'„“«"):
            return []  # not the subject opening the sentence
        out = [first]
        joiners = _word_list_re(ctx.lang, "joiners", whole=True)
        for o in s.orgs[1:]:
            if o.start >= h.start or not joiners.match(ctx.lower[out[-1].end : o.start].strip()):
                break
            out.append(o)
        return out
    return []


def _amount_for_headline(ctx: Context) -> list[DealFound]:
    """A headline naming an amount and the company that gets it, with no verb: "15 Mio.
    Franken für Lakeside Vision", "$50m for Acme"; the investors come from the summary."""
    if not ctx.sentences:
        return []
    title = ctx.sentences[0]
    if ctx.sentence_cats[0].keys() & DEAL_CATEGORIES:
        return []  # a headline with a verb of its own was read already ("plans to raise ... for")
    preps = _lang_words_company(ctx.lang, "amount_for")
    for m in ctx.money:
        if not (title.start <= m.start < title.end):
            continue
        words = ctx.lower[m.end : m.end + 12].split(" ", 2)
        if len(words) < 3 or words[0] != "" or words[1] not in preps:
            continue
        after = m.end + 2 + len(words[1])
        org = next((o for o in ctx.orgs if after <= o.start <= after + 40), None)
        if org is None or _has_clause_mark(ctx, m.end, org.start):
            continue
        # "Crédit Vermeil : 40 millions d'euros pour la start-up Neuronia": the name before
        # the headline's colon gives the money.
        giver = next(
            (
                o
                for o in ctx.orgs
                if o.start == title.start
                and o.end < m.start
                and o.name != org.name
                and ctx.norm[o.end : o.end + 2] in (": ", " :")
            ),
            None,
        )
        return [
            DealFound(
                investor=giver.name if giver is not None else None,
                target=org.name,
                co_investors=[],
                amount=m,
                stage=None,
                background=False,
                evidence=(m.start, org.end),
                ai=_is_ai_org(org),
                explicit_investor=False,
                lead=False,
            )
        ]
    return []


@cache
def _demonym_ref_re(lang: str) -> re.Pattern[str]:
    """A determiner and a demonym standing for a company ("la estadounidense", "la
    lyonnaise"), where adjectives follow nouns and so may stand alone."""
    if not lexicon(lang).extra.get("adjectives_after_nouns"):
        return re.compile(r"(?!x)x")
    dets = sorted(_definite(lang), key=len, reverse=True)
    ends = "|".join(re.escape(e) for e in sorted(DEMONYM_ENDINGS, key=len, reverse=True))
    det = "|".join(re.escape(d) for d in dets)
    return re.compile(rf"(?<!\w)(?:{det})(?:\s|(?<='))[a-zà-ÿ]{{3,}}(?:{ends})(?![\w-])")


@cache
def _round_for_re(lang: str) -> re.Pattern[str]:
    """The word between a round and the company it is for ("round for", "tour pour")."""
    words = sorted(_lang_words_company(lang, "amount_for"), key=len, reverse=True)
    if not words:
        return re.compile(r"(?!x)x")
    return re.compile(rf"{word_start_alternation(words)}(?!\w)")


@cache
def _lang_words_company(lang: str, key: str) -> frozenset[str]:
    """Lower-cased words of the lexicon's company/<key> list ("für", "que")."""
    return frozenset(w.lower() for w in lexicon(lang).company.get(key, ()))


def _mark_ai(ctx: Context, deals: list[DealFound]) -> None:
    """A deal is about an AI company when AI cues sit in a sentence naming the target or
    referring back to a company ("The London-based startup builds AI agents")."""
    if not ctx.ai_sentences:
        return
    for d in deals:
        if d.ai or d.target is None:
            continue
        for i, span in enumerate(ctx.sentences):
            if i not in ctx.ai_sentences:
                continue
            names_target = any(
                o.name == d.target and span.start <= o.start < span.end for o in ctx.orgs
            )
            others = any(o.name != d.target and span.start <= o.start < span.end for o in ctx.orgs)
            about_main = ctx.main_org is not None and d.target == ctx.main_org.name and not others
            if names_target or "anaphor" in ctx.sentence_cats[i] or about_main:
                # "Vocalis lève 15 M€. Sa technologie s'appuie sur des modèles d'IA."
                d.ai = True
                break


def _precision(value: float) -> int:
    digits = f"{value:.6g}".replace(".", "").rstrip("0")
    return len(digits)


def _better_amount(a: AmountLike | None, b: AmountLike | None) -> AmountLike | None:
    """Keep the first amount, unless the other is the same figure said more precisely."""
    if a is None:
        return b
    if b is None:
        return a
    ua, ub = a.value_usd or 0.0, b.value_usd or 0.0
    close = ua and ub and abs(ua - ub) <= 0.1 * max(ua, ub)
    if close and _precision(b.value) > _precision(a.value):
        return b
    return a


def _same_investor(a: str | None, b: str | None) -> bool:
    """The same investor, or a company and its investment arm ("Bertelsmann" and
    "Bertelsmann Investments")."""
    if a is None or b is None:
        return a == b
    return a == b or a.startswith(b + " ") or b.startswith(a + " ")


def _merge_deals(found: list[DealFound]) -> list[DealFound]:
    merged: list[DealFound] = []
    for d in found:
        for i, m in enumerate(merged):
            if m.background != d.background or d.target is None or m.target != d.target:
                continue
            if not (m.investor is None or d.investor is None or m.investor == d.investor):
                # A co-investor's own mention of the same round ("aux côtés de Bpifrance"):
                # the deal that names it as co-investor already says it all.
                if d.investor in m.co_investors and d.amount is None:
                    break
                if m.investor in d.co_investors and m.amount is None:
                    merged[i] = d
                    break
                if not (m.explicit_investor and d.explicit_investor and m.lead != d.lead):
                    continue
                # "lève 235 M$ auprès de A, B et C ... tour mené par D": D leads, the
                # others take part.
                lead, other = (d, m) if d.lead else (m, d)
                co = dict.fromkeys([other.investor, *other.co_investors, *lead.co_investors])
                m.co_investors = [c for c in co if c and c != lead.investor]
                m.investor = lead.investor
                m.lead = True
                m.amount = _better_amount(m.amount, d.amount)
                m.stage = m.stage or d.stage
                m.ai = m.ai or d.ai
                break
            if d.investor and (
                m.investor is None or (d.explicit_investor and not m.explicit_investor)
            ):
                m.investor = d.investor
            if d.co_investors:
                co_investors: list[str] = []
                for name in (*m.co_investors, *d.co_investors):
                    if name != m.investor and name not in co_investors:
                        co_investors.append(name)
                m.co_investors = co_investors
            m.amount = _better_amount(m.amount, d.amount)
            m.stage = m.stage or d.stage
            m.ai = m.ai or d.ai
            m.explicit_investor = m.explicit_investor or d.explicit_investor
            break
        else:
            merged.append(d)
    # Investor-only fragments complete a single target-only deal.
    partial = [d for d in merged if d.target is None and not d.background]
    complete = [d for d in merged if d.target is not None]
    for p in partial:
        # "The amount Microsoft would put into the company could reach $10 billion."
        same = [d for d in complete if _same_investor(d.investor, p.investor) and not d.background]
        if p.amount is not None and len(same) == 1 and same[0].amount is None:
            same[0].amount = p.amount
            if p.investor and len(p.investor) > len(same[0].investor or ""):
                same[0].investor = p.investor  # "Bertelsmann Investments" names it better
    for p in sorted(partial, key=lambda d: not d.explicit_investor):
        # not the company itself ("Wer steckt hinter der Runde von Wandelbots?")
        open_deals = [
            i
            for i, d in enumerate(complete)
            if d.investor is None and not d.background and d.target != p.investor
        ]
        if len(open_deals) == 1:
            target_deal = complete[open_deals[0]]
            target_deal.investor = p.investor
            target_deal.co_investors = p.co_investors or target_deal.co_investors
    # A deal in one direction and its mirror image: keep the first one.
    out: list[DealFound] = []
    for d in complete:
        if d.investor is not None and d.investor == d.target:
            d.investor = None  # a company does not invest in itself
        if any(
            o.investor == d.target and o.target == d.investor and o.background == d.background
            for o in out
        ):
            continue
        out.append(d)
    return out


def recent_funding_of_cuts(
    ctx: Context, deals: list[DealFound], layoffs: list[LayoffFound]
) -> None:
    """A round recalled in a story of job cuts at the same company is part of the news
    ("Mirelia licencie 40 salariés ... avait levé 25 millions d'euros auprès d'Eurazeo"):
    not background, unless a year dates it or the article has a live deal of its own."""
    cut_by = {lay.company for lay in layoffs if not lay.background and lay.company}
    # A live mention without an investor ("quatre mois après sa levée") is the same round.
    if not cut_by or any(not d.background and d.investor is not None for d in deals):
        return
    for d in deals:
        if d.target not in cut_by or d.investor is None or d.amount is None:
            continue
        idx = next((i for i, sp in enumerate(ctx.sentences) if _in(sp, d.evidence[0])), -1)
        if idx < 0:
            continue
        clause = _clause_of(ctx.view(idx).clauses, d.evidence[0])
        if not _year_marks_past(ctx, clause):
            d.background = False
            deals[:] = [o for o in deals if o is d or o.background or o.target != d.target]
            return


def _layoff_cue_spans(
    ctx: Context, s: _Sentence, loss: Sequence[CountLike] = ()
) -> list[tuple[int, int]]:
    """Spans that announce job cuts in this sentence (`loss`: its headcounts of a noun
    that alone means jobs lost, "250 départs")."""
    spans = [(h.start, h.end) for h in s.cats.get("layoff", ())]
    if loss:
        spans += [(c.start, c.end) for c in loss]
    people = {h.start for h in s.cats.get("people", ())}
    jobs = [j for j in s.cats.get("job", ()) if j.start not in people]
    for c in s.cats.get("cut", ()):
        near_job = any(abs(j.start - c.start) <= 60 for j in jobs)
        near_count = any(abs(n.start - c.start) <= 60 for n in s.counts)
        if near_job or near_count:
            spans.append((c.start, c.end))
    return sorted(spans)


def _first_employer(ctx: Context, orgs: list[OrgMention]) -> OrgMention:
    """The first organisation, unless it only qualifies the next one through a compound
    ("Der VW-Zulieferer Brenner streicht ...": Brenner, not Volkswagen)."""
    first = orgs[0]
    if len(orgs) > 1 and ctx.norm[first.end : first.end + 1] == "-":
        gap = ctx.norm[first.end + 1 : orgs[1].start].strip()
        if gap[:1].isupper() and " " not in gap:
            return orgs[1]
    return first


def _employer(ctx: Context, s: _Sentence, start: int) -> OrgMention | None:
    """The company cutting jobs: first organisation of the clause, else of the sentence
    part after the last semicolon, before the cue; else the first one after it."""
    clause = _clause_of(s.clauses, start)
    in_clause = [o for o in s.employers if clause.start <= o.start and o.end <= start]
    if s.idx == 0 and s.employers:
        # "Technicolor : la liquidation de MPC France emporte 300 postes": the name the
        # headline opens with, before its colon, is whom the story is about, unless the
        # clause names its own subject ("Télécoms : le groupe BCE va éliminer ...").
        first = s.employers[0]
        if (
            first.start == s.span.start
            and first.end < start
            and ctx.norm[first.end : first.end + 2] in (": ", " :")
            and (
                not in_clause
                or in_clause[0] is first
                or _link_words(ctx.lang).intersection(
                    ctx.lower[clause.start : in_clause[0].start].replace("'", "' ").split()
                )
            )
        ):
            return first
    if in_clause:
        return _first_employer(ctx, in_clause)
    head = ctx.lower[s.span.start : start].lstrip(" \"'«“„")
    opening = _anaphor_re(ctx.lang).match(head)
    if opening is not None and ctx.main_org is not None:
        lead = start - len(head)
        if not any(lead <= o.start < lead + opening.end() + 3 for o in s.orgs):
            # "The networking group, which ... Cohere, said 5,600 jobs would go": the
            # sentence's subject is the article's company, not a name in between.
            return ctx.main_org
    inner = (
        None
        if ctx.main_org is None
        else _anaphor_re(ctx.lang).search(ctx.lower, clause.start, start)
    )
    if inner is not None and not any(inner.start() <= o.start < start for o in s.orgs):
        # "... told employees the ride-hailing company would lay off 1,072 people as it
        # tries to keep up with Uber": the company referred to, not a name after the cue.
        return ctx.main_org
    semi = ctx.norm.rfind(";", s.span.start, start)
    lo = semi + 1 if semi >= 0 else s.span.start
    before = [o for o in s.employers if lo <= o.start and o.end <= start]
    if before:
        return _first_employer(ctx, before)
    after = [o for o in s.employers if o.start >= start and _in(clause, o.start)]
    if after:
        return after[0]
    # Headline "Stellenabbau bei Zulieferer: Schaeffler ...": a company after the cue.
    later = [o for o in s.employers if o.start >= start]
    return later[0] if later else None


#: A capitalised word of a name ("Verreries", "l'Aa" after a link, "eBay"). Unlike the
#: name reader's token (entities), no digit-initial names: next to a cut, a leading
#: number is the headcount ("300 Beschäftigte"), not a company like "83North".
_NAME_TOKEN = r"(?:[A-ZÀ-ÖØ-Þ][\w&.+'-]*|[a-z]{1,3}[A-Z][\w.+-]*)"
#: A colon or dash after a headline's opening name ("X : la liquidation ...", "X – ...").
_HEAD_MARK = re.compile(r" ?[:–—] ")
_NEXT_LOWER = re.compile(r" ([a-zà-ÿ][\w'-]*)")
_NEXT_WORD = re.compile(r" +([^\W\d_]+)")
_POSSESSOR_NAME = re.compile(rf"(?<![\w'-])({_NAME_TOKEN}(?: {_NAME_TOKEN}){{0,3}}?)'s? $")
#: Endings of capitalised common nouns opening a headline ("Hiring ...", "Retailers ...").
_COMMON_ENDINGS = ("ing", "ics", "tion", "sion", "ment", "ness", "ity", "ism", "ción", "ers")


@cache
def _unknown_name_re(lang: str) -> re.Pattern[str]:
    """Capitalised words joined by spaces or the language's name links ("Aéroports de
    Paris", "Verreries de l'Aa", "Bank of Avalon"): a name no list knows."""
    links = sorted(
        {str(w) for w in lexicon(lang).extra.get("layoff_name_links") or ()}, key=len, reverse=True
    )
    glue = " "
    if links:
        glue = rf"(?: (?:{'|'.join(re.escape(w) for w in links)}) | )"
    return re.compile(rf"{_NAME_TOKEN}(?:{glue}(?:[lLdD]')?{_NAME_TOKEN}){{0,4}}")


def _phrases_alternation(words: Iterable[str]) -> str:
    """Regex alternation of lower-cased phrases, longest first: a phrase ending in an
    apostrophe ("l'", "d'") runs into the next word, any other is followed by a space."""
    ordered = sorted({str(w).lower() for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w) if w.endswith("'") else re.escape(w) + " " for w in ordered)


@cache
def _phrases_with_article_re(lang: str, key: str, article_first: bool) -> re.Pattern[str]:
    """The lexicon's `key` phrases with an optional article of the language, after them
    (" jobs at the X") or before them ("der Chef von X"), on lower-cased text."""
    lex = lexicon(lang)
    alt = _phrases_alternation(lex.extra.get(key) or ())
    if not alt:
        return re.compile(r"(?!x)x")
    det = _phrases_alternation(lex.company.get("determiners", ()))
    if article_first:
        return re.compile(rf"(?:{det})?(?:{alt})" if det else rf"(?:{alt})")
    return re.compile(rf" (?:{alt})(?:{det})?" if det else rf" (?:{alt})")


def _employer_link_re(lang: str) -> re.Pattern[str]:
    """A word introducing the employer after a cut or a headcount, and an optional
    article ("jobs at X", "salariés de X", "Stellen bei der X")."""
    return _phrases_with_article_re(lang, "layoff_employer_links", False)


def _boss_of_re(lang: str) -> re.Pattern[str]:
    """An article and a company head's title before the company ("der Chef von ",
    "le PDG de ")."""
    return _phrases_with_article_re(lang, "layoff_boss_of", True)


@cache
def _layoff_words(lang: str, key: str) -> frozenset[str]:
    return frozenset(str(w).lower() for w in lexicon(lang).extra.get(key) or ())


def _only_affected(ctx: Context, cue_spans: list[tuple[int, int]]) -> bool:
    """True when the sentence's cues only say staff are affected ("seront concernés",
    "afectará a"): in a text about short-time work that is no layoff."""
    affected = _layoff_words(ctx.lang, "layoff_affected")
    return bool(affected) and all(ctx.lower[a:b] in affected for a, b in cue_spans)


def _negated_after(ctx: Context, s: _Sentence, clause: Span, end: int) -> bool:
    """A negation right after the cue, at most two words between, before a word that is
    no function word ("Kündigungen seien nicht geplant", "les licenciements ne sont pas
    prévus", "layoffs not planned"; not "Sparprogramm nicht mit Stellenstreichungen")."""
    for h in s.cats.get("negation", ()):
        if end <= h.start <= min(clause.end, end + 30):
            gap = ctx.norm[end : h.start]
            if len(gap.split()) > 2 or _has_clause_mark(ctx, end, h.start):
                return False
            nxt = _NEXT_WORD.match(ctx.lower, h.end, min(len(ctx.lower), h.end + 30))
            return nxt is not None and nxt.group(1) not in ctx.lex.stopwords
    return False


def _loss_counts(ctx: Context) -> list[CountLike]:
    """Headcounts of a noun that alone means jobs lost ("250 départs", "300 bajas")."""
    return loss_counts(ctx.counts, ctx.lower, ctx.lang)


def loss_counts(counts: Sequence[CountLike], lower: str, lang: str) -> list[CountLike]:
    """The headcounts among `counts` whose noun alone means jobs lost ("250 départs",
    "300 bajas"): a layoff with no other cue word, so `analyze` runs the rules for it."""
    if not counts:
        return []
    nouns = _layoff_words(lang, "layoff_count_nouns")
    if not nouns:
        return []
    return [
        c
        for c in counts
        if c.value is not None and lower[c.start : c.end].rsplit(" ", 1)[-1] in nouns
    ]


def _plausible_name(ctx: Context, start: int, end: int, name: str) -> bool:
    """A name read from the sentence's shape that is no cue word, number or common noun."""
    for h in ctx.hits:
        if h.start >= end:
            break
        if h.end > start:
            return False  # "Stellenabbau: ...", "Tech workers ...": a cue, not a name
    if any(
        c.start < end and start < c.end and not (c.start < start and end < c.end)
        for c in ctx.counts
    ) or any(m.start < end and start < m.end for m in ctx.money):
        return False  # a number, not a name (though "300 of X' 1,000 workers" holds one)
    if name.split(" ", 1)[0] in TITLES:
        return False  # "Minister criticises ...": a person's title
    if " " not in name:
        low = name.lower()
        nouns = _company_nouns(ctx.lang)
        if low in nouns or low.rstrip("s") in nouns or low.endswith(_COMMON_ENDINGS):
            return False
        if name_rules(ctx.lex).capitalised_nouns and german_noun(name, ctx.lex):
            return False
    return True


def _canonical(name: str) -> str:
    """The gazetteer's name for a known alias (not an ambiguous one: the entity rules
    turned it down here), else the name as read."""
    gaz = gazetteer()
    entry = gaz.aliases.get(name)
    if entry is None or entry[0] != "org":
        return name
    org = gaz.orgs.get(entry[1])
    return entry[1] if org is not None and not org.ambiguous else name


def _headline_subject(ctx: Context) -> str | None:
    """The unknown company opening the headline, followed by its verb or a colon:
    "Thomas Ashby collapses, ...", "Verreries X : la liquidation ...", "BXK will 3.500
    Jobs abbauen", "Loewa-Insolvenz: ..." (a tail of the layoff_name_tails list); or
    opening the part after a colon, with its verb ("Stellenabbau: X trennt sich ...")."""
    norm = ctx.norm
    end = norm.find("\n")
    end = len(norm) if end < 0 else end
    if title_case(norm, 0, end, ctx.lang):
        return None
    name = _subject_at(ctx, 0, end, True)
    if name is None:
        mark = _HEAD_MARK.search(norm, 0, end)
        if mark is not None:
            name = _subject_at(ctx, mark.end(), end, False)
    return name


def _subject_at(ctx: Context, pos: int, end: int, colon: bool) -> str | None:
    """An unknown name at `pos` followed by a verb (or, with `colon`, by a colon)."""
    norm = ctx.norm
    while pos < end and norm[pos] in " \"'«“„":
        pos += 1
    boss = _boss_of_re(ctx.lang).match(ctx.lower, pos, end)
    if boss is not None:
        pos = boss.end()  # "Le PDG de X annonce ...": the company the head speaks for
    m = _unknown_name_re(ctx.lang).match(norm, pos, end)
    if m is None:
        return None
    rules = name_rules(ctx.lex)
    tokens = m.group(0).split(" ")
    stop = m.end()
    glued = False
    if len(tokens) == 1 and "-" in tokens[0]:
        head, _, tail = tokens[0].rpartition("-")
        if tail.lower() in _layoff_words(ctx.lang, "layoff_name_tails"):
            tokens, stop, glued = [head], m.start() + len(head), True
    name = clean_name(tokens, rules)
    if name is None:
        return None
    start = norm.find(name, m.start(), stop)
    if start < 0:
        return None
    rest = m.end()
    if _HEAD_MARK.match(norm, rest, end) is not None:
        if not colon:
            return None
        if rules.capitalised_nouns and not glued and " " not in name and name[1:].islower():
            return None  # "Sparkurs: ...": a German noun opens the headline
    else:
        w = _NEXT_LOWER.match(norm, rest, end)
        if w is None or w.group(1) in _company_nouns(ctx.lang):
            return None  # "Tech giant ...": the word describes a name
        stopwords = ctx.lex.stopwords
        if w.group(1) in stopwords and w.group(1) not in _aux_words(ctx.lang):
            w2 = _NEXT_LOWER.match(norm, w.end(), end)
            if w2 is None or w2.group(1) in stopwords:
                return None  # "Stellenabbau bei der ...": a preposition, no verb
    if not _plausible_name(ctx, start, start + len(name), name):
        return None
    return _canonical(name)


def _named_after_cut(ctx: Context, s: _Sentence, cue_spans: list[tuple[int, int]]) -> str | None:
    """The first unknown employer named right after a cue or a headcount of `s`."""
    for _, end in cue_spans:
        name = _named_after(ctx, s, end)
        if name is not None:
            return name
    for c in s.counts:
        name = _named_after(ctx, s, c.end) or _possessor_of(ctx, s, c.start)
        if name is None and "'" in ctx.norm[c.start : c.end]:
            # "300 of Acme Foods' 1,000 workers": the possessive inside the headcount.
            at = ctx.norm.find("' ", c.start, c.end)
            at = at + 2 if at >= 0 else ctx.norm.find("'s ", c.start, c.end) + 3
            if at > 2:
                name = _possessor_of(ctx, s, at)
        if name is not None:
            return name
    for h in s.cats.get("job", ()):
        name = _named_after(ctx, s, h.end)  # "la plantilla de X", "les salariés de X"
        if name is not None:
            return name
    return None


def _possessor_of(ctx: Context, s: _Sentence, pos: int) -> str | None:
    """An unknown employer in the possessive right before a headcount ("X's 2,000
    workers", "X' 300 staff")."""
    if ctx.norm[pos - 2 : pos] != "' " and ctx.norm[pos - 3 : pos] != "'s ":
        return None
    m = _POSSESSOR_NAME.search(ctx.norm, max(s.span.start, pos - 80), pos)
    if m is None:
        return None
    tokens = m.group(1).split(" ")
    name = clean_name(tokens, name_rules(ctx.lex))
    if name is None:
        return None
    start = ctx.norm.find(name, m.start(1), pos)
    if start < 0 or not _plausible_name(ctx, start, start + len(name), name):
        return None
    return _canonical(name)


def _named_after(ctx: Context, s: _Sentence, pos: int) -> str | None:
    """An unknown employer named right after a cut or a headcount: "départs volontaires
    aux Verreries X", "la liquidation de X", "1.100 empleados del X"."""
    m = _employer_link_re(ctx.lang).match(ctx.lower, pos, s.span.end)
    if m is None:
        return None
    n = _unknown_name_re(ctx.lang).match(ctx.norm, m.end(), s.span.end)
    if n is None:
        return None
    rules = name_rules(ctx.lex)
    name = clean_name(n.group(0).split(" "), rules)
    if name is None or not ctx.norm.startswith(name, n.start()):
        return None
    if not rules.capitalised_nouns and not rules.adjectives_after_nouns:
        w = _NEXT_LOWER.match(ctx.norm, n.start() + len(name), s.span.end)
        if w is not None and w.group(1) not in ctx.lex.stopwords:
            return None  # "at Avalon tractor plants": a place or an attribute
    if not _plausible_name(ctx, n.start(), n.start() + len(name), name):
        return None
    return _canonical(name)


def extract_layoffs(ctx: Context) -> list[LayoffFound]:
    """Job cuts of the text, one per (company, headcount)."""
    found: list[LayoffFound] = []
    anaphor = _anaphor_re(ctx.lang)
    opener: str | None = None  # the headline's unknown subject, read once when needed
    opener_done = False
    loss: list[CountLike] | None = None  # "250 départs": read when a sentence needs it
    # Short-time work or a temporary lay-off named anywhere (Kurzarbeit, ERTE).
    short_time = any("layoff_exclude" in cats for cats in ctx.sentence_cats)
    for idx in range(len(ctx.sentences)):
        cats = ctx.sentence_cats[idx]
        lost: list[CountLike] = []
        if "layoff" not in cats:
            span = ctx.sentences[idx]
            if "cut" not in cats:
                if not ctx.counts:
                    continue
                if loss is None:
                    loss = _loss_counts(ctx)
                lost = [c for c in loss if span.start <= c.start < span.end]
                if not lost:
                    continue
            elif "job" not in cats and not any(
                span.start <= c.start < span.end for c in ctx.counts
            ):
                continue  # a cutting verb with neither a job noun nor a headcount
        s = ctx.view(idx)
        cue_spans = _layoff_cue_spans(ctx, s, lost)
        if short_time and cue_spans and _only_affected(ctx, cue_spans):
            continue  # "au chômage partiel ... 2 000 salariés seront concernés"
        for start, end in cue_spans[:1]:
            clause = _clause_of(s.clauses, start)
            clause_cats = s.clause_cats(clause)
            if (
                clause_cats.get("layoff_exclude")
                or s.negated(ctx, start)
                or ("negation" in s.cats and _negated_after(ctx, s, clause, end))
            ):
                continue
            hires = s.cats.get("hire", ())
            counts = [
                c
                for c in s.counts
                if c.value is not None and not any(0 <= c.start - h.end <= 15 for h in hires)
            ]
            pcts = [c for c in s.counts if c.percent is not None]
            company = _employer(ctx, s, start)
            company_name = company.name if company else None
            if company_name is None:
                # "the company said it's laying off 10,000": the article's company, named
                # in the headline; else a name no list knows after the cut ("départs
                # volontaires aux Verreries X"), else the headline's unknown subject.
                head = ctx.lower[s.span.start : start]
                refers = bool(
                    counts
                    or pcts
                    or anaphor.search(head)
                    or _word_list_re(ctx.lang, "pronouns").search(head)
                )
                main = ctx.main_org
                title_end = ctx.norm.find("\n")
                in_title = main is not None and (title_end < 0 or main.end <= title_end)
                if refers and main is not None and in_title:
                    company_name = main.name
                else:
                    company_name = _named_after_cut(ctx, s, cue_spans)
                if company_name is None and not in_title and (refers or idx == 0):
                    if not opener_done:
                        opener, opener_done = _headline_subject(ctx), True
                    if opener is not None:
                        company_name = opener
                    elif main is not None and refers:
                        company_name = main.name
            headcount = None
            if counts:
                near = min(counts, key=lambda c: (abs(c.start - start) > 80, c.start))
                headcount = int(near.value) if near.value is not None else None
            percent = pcts[0].percent if pcts else None
            background = _background(ctx, s, clause, attributes=False)
            found.append(LayoffFound(company_name, headcount, percent, background, (start, end)))
    return _merge_layoffs(found)


def _merge_layoffs(found: list[LayoffFound]) -> list[LayoffFound]:
    """One layoff per (company, headcount, background)."""
    out: list[LayoffFound] = []
    for lay in found:
        for i, m in enumerate(out):
            if (
                m.company == lay.company
                and m.background == lay.background
                and (m.headcount is None or lay.headcount is None or m.headcount == lay.headcount)
            ):
                out[i] = replace(
                    m,
                    headcount=m.headcount if m.headcount is not None else lay.headcount,
                    percent=m.percent if m.percent is not None else lay.percent,
                )
                break
        else:
            out.append(lay)
    if len(out) > 1:
        # A cut without an employer that repeats a named one ("Die Erfahrung lehrt, dass
        # sich übereilter Stellenabbau rächt" after "30.000 Stellen bei der Bahn"): one.
        out = [
            m
            for m in out
            if m.company is not None
            or not any(
                o.company is not None
                and o.background == m.background
                and (m.headcount is None or m.headcount == o.headcount)
                for o in out
            )
        ]
    return out
