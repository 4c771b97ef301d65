"""Organisations and people: a gazetteer matched with Aho-Corasick, plus company patterns.

Known names come from data/orgs.yaml and data/people.yaml (exact, case-sensitive
surface forms), compiled into one automaton per process. Organisations that are in
no list are found when the text makes clear they are companies: a company cue before
the name ("startup Hebbia", "la start-up X", "der Chiphersteller X"), after it
("X, a startup"), a legal suffix ("X GmbH"), or the name being the subject of a verb
of raising money or cutting jobs ("X raises $20 million", "X lève 100 millions",
"X sammelt ... ein", "X despide a ..."). The cues are lexicon data per language.

One-word names that the gazetteer flags as ambiguous ("Amazon", "Orange", "Harvey")
need company context: not after a definite article, not followed by another
capitalised word, and in a sentence with business cues or next to other names.
A later first word of a multi-word name ("Stability" after "Stability AI") is the same
organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from newsradar.nlp.lexicon import (
    DEAL_AND_CUT_CUES,
    CueHit,
    Lexicon,
    available_languages,
    lexicon,
    own_cue_words,
    word_start_alternation,
    words_regex,
)
from newsradar.nlp.text import PlainValue

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Categories of cue hits whose subject may be an unknown company.
SUBJECT_CATEGORIES = frozenset({"raise", "raise_weak", "layoff", "cut", "acquired_by"})


@dataclass(frozen=True, slots=True)
class OrgEntry:
    """One organisation of the gazetteer."""

    name: str
    kind: str
    wikidata: str | None
    ambiguous: bool
    parent: str | None


class OrgMention(PlainValue):
    """An organisation found in the text."""

    def __init__(
        self,
        name: str,
        surface: str,
        start: int,
        end: int,
        known: bool,
        wikidata: str | None = None,
        kind: str = "company",
    ) -> None:
        self.name = name
        self.surface = surface
        self.start = start
        self.end = end
        self.known = known
        self.wikidata = wikidata
        self.kind = kind

    def _key(self) -> tuple[str, str, int, int, bool, str | None, str]:
        return (self.name, self.surface, self.start, self.end, self.known, self.wikidata, self.kind)


class PersonMention(PlainValue):
    """A person of the gazetteer found in the text."""

    def __init__(self, name: str, surface: str, start: int, end: int) -> None:
        self.name = name
        self.surface = surface
        self.start = start
        self.end = end

    def _key(self) -> tuple[str, str, int, int]:
        return (self.name, self.surface, self.start, self.end)


_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_START = attrgetter("start")


class Gazetteer:
    """Organisations and people, compiled into one case-sensitive automaton."""

    def __init__(self, orgs: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
        self.orgs: dict[str, OrgEntry] = {}
        self.people: set[str] = set()
        self.aliases: dict[str, tuple[str, str]] = {}
        automaton = ahocorasick.Automaton()
        for row in orgs:
            name = str(row.get("name") or "").strip()
            if not name:
                continue
            entry = OrgEntry(
                name=name,
                kind=str(row.get("kind") or "company"),
                wikidata=row.get("wikidata"),
                ambiguous=bool(row.get("ambiguous")),
                parent=row.get("parent"),
            )
            self.orgs[name] = entry
            for surface in [name, *(row.get("aliases") or [])]:
                self._add(automaton, str(surface), "org", name)
        for row in people:
            name = str(row.get("name") or "").strip()
            if not name:
                continue
            self.people.add(name)
            for surface in [name, *(row.get("aliases") or [])]:
                self._add(automaton, str(surface), "person", name)
        # First word of multi-word names, when it points to one entry only.
        firsts: dict[str, set[str]] = {}
        for name in self.orgs:
            first = name.split(" ")[0]
            if " " in name and len(first) >= 4 and first not in self.aliases:
                firsts.setdefault(first, set()).add(name)
        self.first_tokens = {f: next(iter(ns)) for f, ns in firsts.items() if len(ns) == 1}
        self._automaton = automaton if self.aliases else None
        if self._automaton is not None:
            automaton.make_automaton()

    def _add(self, automaton: Any, surface: str, kind: str, name: str) -> None:
        surface = surface.replace("’", "'").strip()
        if len(surface) < 2 or surface in self.aliases:
            return
        self.aliases[surface] = (kind, name)
        automaton.add_word(surface, (len(surface), kind, name))

    def find(self, norm: str) -> list[tuple[int, int, str, str]]:
        """(start, end, kind, canonical) of gazetteer names in `norm`, longest first, no overlaps.

        A name must stand as a word: no letter or digit right before it, and after it
        only a non-word character, a German genitive "s" or an apostrophe.
        """
        if self._automaton is None:
            return []
        n = len(norm)
        found: list[tuple[int, int, str, str]] = []
        for end_idx, (length, kind, name) in self._automaton.iter(norm):
            start = end_idx - length + 1
            end = end_idx + 1
            if start > 0 and (norm[start - 1].isalnum() or norm[start - 1] == "_"):
                continue
            if end < n:
                nxt = norm[end]
                # German genitive ("Microsofts", "Aleph Alphas") but not "Metaverse".
                if nxt.isalnum():
                    if not (nxt == "s" and (end + 1 == n or not norm[end + 1].isalnum())):
                        continue
                elif (
                    nxt == "."
                    and norm[end + 1 : end + 3].lower() in ("ai", "io")
                    and not norm[end + 3 : end + 4].isalnum()
                ):
                    continue  # "Leonardo.Ai" is another company than "Leonardo"
            found.append((start, end, kind, name))
        if len(found) < 2:
            return found
        # By start, longer first: two stable C-level sorts (secondary key first) give the
        # order of one sort on (start, -length) without a Python key call per match.
        found.sort(key=_SECOND, reverse=True)
        found.sort(key=_FIRST)
        result: list[tuple[int, int, str, str]] = []
        last_end = -1
        for m in found:
            if m[0] >= last_end:
                result.append(m)
                last_end = m[1]
        return result


def _read_yaml_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [row for row in data or [] if isinstance(row, dict)]


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer of data/orgs.yaml and data/people.yaml, built once per process."""
    return Gazetteer(
        _read_yaml_list(DATA_DIR / "orgs.yaml"), _read_yaml_list(DATA_DIR / "people.yaml")
    )


# A name token: capitalised ("Hebbia", "ZF", "Sensi.AI", "Builder.ai") or camel-cased
# with a lower-case start ("xAI", "iRobot", "d-Matrix").
_TOKEN = r"(?:[A-ZÀ-ÖØ-Þ0-9][\w&.+'-]*|(?:[a-z]{1,3}|[a-z]-)[A-Z][\w.+-]*)"
_TOKEN_RE = re.compile(_TOKEN)
_CAMEL_START = re.compile(r"(?:[a-z]{1,3}|[a-z]-)[A-Z]")
_WORD_CAP = re.compile(r"(?<![\w'’])(?:[A-ZÀ-Þ]|[a-z]{1,3}[A-Z]|\d{1,2}[A-Z])")
# The capital of every _WORD_CAP match, found by a pattern that opens with a character
# class (a fast scan in the regex engine) and checks what precedes it by lookbehind:
# the capital itself opens the match, or ends one to three lower-case letters that do.
_WORD_CAP_ANCHOR = re.compile(
    r"[A-ZÀ-Þ](?:(?<![\w'’].)|(?<=(?<![\w'’])[a-z][A-Z])"
    r"|(?<=(?<![\w'’])[a-z]{2}[A-Z])|(?<=(?<![\w'’])[a-z]{3}[A-Z])"
    # a digit-initial name: "83North", "1X"
    r"|(?<=(?<![\w'’])\d[A-Z])|(?<=(?<![\w'’])\d\d[A-Z]))"
)
_ELIDED_NOUN = re.compile(r"^[LDldQq]u?['’][a-zà-ÿ]")
_NAME_FWD = re.compile(rf"{_TOKEN}(?:[ ]{_TOKEN}){{0,3}}")
_NUMERIC = re.compile(r"[\d.,]+")
_TOKEN_END = re.compile(rf"{_TOKEN}$")


@dataclass(frozen=True, slots=True)
class NameRules:
    """Per-language word sets used to read unknown company names."""

    strip: frozenset[str]
    nonnames: frozenset[str]
    stop_lower: frozenset[str]
    aux_words: frozenset[str]
    suffixes: frozenset[str]
    investor_suffixes: frozenset[str]
    definite: frozenset[str]
    link: re.Pattern[str]
    capitalised_nouns: bool
    adjectives_after_nouns: bool
    connector: re.Pattern[str] | None  # " del Levante" continuing a name


_RULES_CACHE: dict[str, NameRules] = {}


def name_rules(lex: Lexicon) -> NameRules:
    """The name-reading rules of `lex`, compiled once per language."""
    rules = _RULES_CACHE.get(lex.language)
    if rules is None:
        rules = _RULES_CACHE[lex.language] = _compile_name_rules(lex)
    return rules


def _link_re(links: tuple[str, ...]) -> re.Pattern[str]:
    """ " de teleoperaciones", " de IA" before a name: a linking word and one lower-case
    word (or an AI acronym); matched on the cased text, so the name must be capitalised."""
    if not links:
        return re.compile(r"(?!x)x")
    body = "|".join(re.escape(w.lower()) for w in sorted(links, key=len, reverse=True))
    return re.compile(rf" (?i:{body}) ?(?:l['’])?(?:[a-zà-ÿ-]+|IA|KI|AI)(?= [A-ZÀ-Þ])")


def _compile_name_rules(lex: Lexicon) -> NameRules:
    company = lex.company
    stop_lower = set(lex.stopwords)
    stop_lower.update(a.lower() for a in company.get("aux", ()))
    stop_lower.update(m.lower() for m in lex.months)
    return NameRules(
        strip=frozenset(company.get("strip", ())),
        nonnames=all_nonnames(),
        stop_lower=frozenset(stop_lower),
        aux_words=frozenset(w for a in company.get("aux", ()) for w in a.lower().split()),
        suffixes=frozenset(x for x in company.get("suffixes", ()) if x),
        investor_suffixes=all_investor_suffixes(),
        definite=frozenset(d.lower() for d in company.get("determiners", ())),
        link=_link_re(company.get("links", ())),
        capitalised_nouns=bool(lex.extra.get("capitalised_nouns")),
        adjectives_after_nouns=bool(lex.extra.get("adjectives_after_nouns")),
        connector=_connector_re(company.get("name_connectors", ())),
    )


def _connector_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """ " del Levante", " des Dépôts": a connector word and one capitalised word."""
    if not words:
        return None
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf" (?:{body}) ([A-ZÀ-Þ][\w'-]+)(?![\w-])")


@cache
def all_investor_suffixes() -> frozenset[str]:
    """Last words of investors' names ("Capital", "Ventures"), from every language file."""
    out: set[str] = set()
    for code in available_languages():
        out.update(lexicon(code).company.get("investor_suffixes", ()))
    return frozenset(out)


@cache
def all_nonnames() -> frozenset[str]:
    """Capitalised words that are never a company on their own, in any language file."""
    out: set[str] = set()
    for code in available_languages():
        out.update(lexicon(code).company.get("nonnames", ()))
    return frozenset(out)


def clean_name(tokens: list[str], rules: NameRules) -> str | None:
    """Strip determiners and demonyms, trailing punctuation; None when nothing is left."""
    tokens = [u for t in tokens if (u := t.rstrip(".,;:'’").removesuffix("'s"))]
    if tokens and _ELIDED_NOUN.match(tokens[0]):
        return None  # "L'annonce", "D'autres": an elided article and a common noun
    while tokens and (
        _NUMERIC.fullmatch(tokens[-1])
        or (tokens[-1] in rules.suffixes and tokens[-1] not in rules.investor_suffixes)
    ):
        tokens.pop()
    while tokens and (tokens[0] in rules.strip or tokens[0].lower() in rules.stop_lower):
        tokens.pop(0)
    while tokens and (tokens[-1] in rules.strip or tokens[-1].lower() in rules.stop_lower):
        tokens.pop()
    if not tokens:
        return None
    name = " ".join(tokens)
    if name in rules.nonnames or all(t in rules.nonnames for t in tokens):
        return None
    if not any(c.isalpha() for c in name) or len(name) < 2 or name.isdigit():
        return None
    if len(name) > 3 and name.isupper() and " " not in name and len(tokens) == 1:
        # A shouted word in a headline ("BREAKING") rather than an acronym.
        return None if len(name) > 6 else name
    return name


def _read_forward(norm: str, pos: int, rules: NameRules) -> tuple[str, int, int] | None:
    """Read a capitalised name starting at `pos` (after spaces): (name, start, end)."""
    while pos < len(norm) and norm[pos] == " ":
        pos += 1
    if pos >= len(norm):
        return None
    first = norm[pos]
    if not (first.isupper() or first.isdigit()) and not _CAMEL_START.match(norm, pos):
        return None  # a lower-case word or punctuation: no name here
    m = _NAME_FWD.match(norm, pos)
    if not m:
        return None
    tokens: list[str] = []
    end = m.start()
    span = m.group(0)
    for tm in _TOKEN_RE.finditer(span):
        tok = tm.group(0)
        low = tok.lower().rstrip(".,")
        if (
            tokens
            and low in rules.stop_lower
            # A capitalised article inside a name: "Lácteos La Pampa", "Banco Del Sol"
            and not (low in rules.definite and tok == tok.capitalize() and tm.end() < len(span))
        ):
            break
        tokens.append(tok)
        end = m.start() + tm.end()
    name = clean_name(tokens, rules)
    if name is None:
        return None
    start = norm.find(name.split(" ")[0], m.start(), end)
    start = m.start() if start < 0 else start
    end = start + len(name)
    if rules.connector is not None and norm[start:end] == name:
        # "Cerámicas del Levante", "Hilaturas del Norte": one connector inside the name.
        cm = rules.connector.match(norm, end)
        if cm and cm.group(1) not in rules.nonnames and cm.group(1) not in rules.strip:
            end = cm.end()
            name = norm[start:end]
    return name, start, end


def _read_backward(norm: str, pos: int, rules: NameRules) -> tuple[str, int, int] | None:
    """Read a capitalised name ending at `pos` (before spaces): (name, start, end).

    Walks back word by word (at most four) with `rfind`, which is much cheaper than
    an end-anchored regex search.
    """
    lo = max(0, pos - 120)
    cur = pos
    while cur > lo and norm[cur - 1] == " ":
        cur -= 1
    tokens: list[str] = []
    while cur > lo and len(tokens) < 4:
        space = norm.rfind(" ", lo, cur)
        word = norm[space + 1 : cur]
        if word.islower():
            break  # cheap exit: no capital, no name token
        m = _TOKEN_END.search(word)
        if not m:
            break
        tok = m.group(0)
        if _NUMERIC.fullmatch(tok):
            break
        if "-" in tok and tok.rsplit("-", 1)[1][:1].islower():
            break  # "SoftBank-backed", "Paris-based": an attribute, not part of the name
        if tokens and tok.endswith(("'s", "’s")):
            break  # "Quebec's Lavalin Group": a possessive before the name
        low = tok.lower().rstrip(".,")
        if (low in rules.stop_lower or tok in rules.strip) and not (
            # a capitalised article inside a name ("Lácteos La Pampa"); left alone at the
            # start, it is stripped by clean_name
            tokens and low in rules.definite and tok == tok.capitalize()
        ):
            break
        tokens.insert(0, tok)
        if m.start() > 0 or space < lo:
            break  # glued to something ("(MSFT", "-based") or the window's edge
        cur = space
        while cur > lo and norm[cur - 1] == " ":
            cur -= 1
    name = clean_name(tokens, rules)
    if name is None:
        return None
    start = norm.rfind(name, lo, pos)
    if start < 0:
        return None
    return name, start, start + len(name)


def _skip_aux_backward(lower: str, pos: int, rules: NameRules) -> int:
    """Move `pos` back over auxiliary words ("has", "a", "hat", "is set to") and spaces."""
    aux = rules.aux_words
    for _ in range(6):
        while pos > 0 and lower[pos - 1] == " ":
            pos -= 1
        space = lower.rfind(" ", max(0, pos - 20), pos)
        word = lower[space + 1 : pos]
        if word and word in aux:
            pos = space + 1
        else:
            break
    while pos > 0 and lower[pos - 1] == " ":
        pos -= 1
    return pos


def find_entities(
    norm: str,
    lower: str,
    lex: Lexicon,
    hits: list[CueHit],
    money_spans: list[tuple[int, int]],
) -> tuple[list[OrgMention], list[PersonMention]]:
    """Organisations (known and pattern-found) and people in `norm`, in text order.

    `norm` is the analysed text with apostrophes and spaces normalised (same offsets),
    `lower` its lower-cased copy, `hits` the lexicon cue hits, `money_spans` the
    spans of money amounts (used to accept "X raises $20 million" subjects).
    """
    gaz = gazetteer()
    orgs: list[OrgMention] = []
    people: list[PersonMention] = []
    taken: list[tuple[int, int]] = []
    rules = name_rules(lex)
    found = gaz.find(norm)
    for start, end, kind, name in found:
        surface = norm[start:end]
        if kind == "person":
            people.append(PersonMention(name, surface, start, end))
        else:
            arm = _INVESTOR_ARM.match(norm, end)
            if arm is not None and arm.group(1) in rules.investor_suffixes:
                # "AMD Ventures", "Atlassian Ventures": a company's investment arm is an
                # investor of its own, not the company.
                end = arm.end()
                orgs.append(
                    OrgMention(
                        norm[start:end], norm[start:end], start, end, False, None, "investor"
                    )
                )
                taken.append((start, end))
                continue
            entry = gaz.orgs[name]
            if (
                entry.ambiguous
                and " " not in surface
                and not _ambiguous_ok(norm, lower, start, end, hits, len(found) > 1, rules)
            ):
                continue
            orgs.append(OrgMention(name, surface, start, end, True, entry.wikidata, entry.kind))
        taken.append((start, end))

    known_ends = {e for _, e in taken}
    known_starts = {b for b, _ in taken}

    # The text with known names blanked out (built on first use): one regex search then
    # tells whether a capitalised word outside them, where an unknown name could start,
    # is near.
    blank: list[str] = []

    def free(lo: int, hi: int) -> bool:
        """A capitalised word outside known names in [lo, hi) (cheap pre-check)."""
        if not blank:
            blank.append(_blank_out(norm, taken))
        return _has_word_cap(blank[0], max(lo, 0), hi)

    any_free = free(0, len(norm))  # no unknown capitalised word: no unknown name either
    candidates: list[tuple[str, int, int]] = []
    investors: set[tuple[str, int]] = set()  # candidates read as investors' names
    employer_done: set[int] = set()
    subject_done: set[int] = set()
    aux_done: set[int] = set()
    money_starts = [s for s, _ in money_spans]
    funding_hits = [h for h in hits if h.category == "funding"]
    funding_starts = [h.start for h in funding_hits]
    job_starts = [h.start for h in hits if h.category == "job"]
    for hit in hits:
        cat = hit.category
        if cat not in _PATTERN_CATEGORIES or (not any_free and cat in _UNKNOWN_ONLY):
            continue
        if cat == "co_before":
            nxt = hit.end + 1 if hit.end < len(norm) and norm[hit.end] == " " else hit.end
            if nxt in known_starts:
                continue  # "ChatGPT maker OpenAI": the name is known already
            cue = norm[hit.start : hit.end]
            word = hit.start + cue.rfind(" ") + 1  # the cue's last word
            if norm[word].isupper() and (
                (cue in rules.suffixes and word == hit.start)
                # Where common nouns are lower-case, a capitalised one inside a sentence
                # ("La Banque Ardennaise", "a Fonds Solaris") is part of a name as well.
                or (not rules.capitalised_nouns and word > 0 and norm[word - 2] not in ".\n")
            ):
                # "Grupo Altamira Media": a capitalised group word opens the name itself.
                res = _read_forward(norm, word, rules)
                if res is not None and res[1] == word and " " in res[0]:
                    candidates.append(res)
                    continue
            res = _read_forward(norm, hit.end, rules)
            if res is None:
                # "la compañía de teleoperaciones Konecta": a preposition and one word.
                m = rules.link.match(norm, hit.end)
                if m:
                    res = _read_forward(norm, m.end(), rules)
            if res is None and rules.adjectives_after_nouns:
                # "la start-up lyonnaise Vectora AI": one lower-case adjective between.
                m = _ADJECTIVE.match(norm, hit.end) or _ADJECTIVE_AI.match(norm, hit.end)
                if m and m.group(1).lower() not in rules.stop_lower:
                    res = _read_forward(norm, m.end(), rules)
            if res is not None:
                candidates.append(res)
        elif cat == "co_suffix":
            # A legal suffix, spelled exactly ("Acme GmbH", "Foo, Inc."), after a name.
            suffix = norm[hit.start : hit.end]
            if suffix in rules.suffixes and hit.start > 1:
                if suffix in rules.investor_suffixes and norm[hit.start - 1] == " ":
                    # "Sprints Capital", "Durable Capital Partners": the suffix is a name part.
                    res = _read_backward(norm, hit.end, rules)
                    if res is not None and " " in res[0]:
                        res = _after_descriptor(res, lex)
                        candidates.append(res)
                        investors.add((res[0], res[1]))
                    continue
                pos = hit.start - 1
                if norm[pos] == " " and norm[pos - 1] == ",":
                    pos -= 1
                if norm[pos] in " ,":
                    res = _read_backward(norm, pos, rules)
                    if res is not None:
                        candidates.append(res)
        elif cat == "co_after":
            res = _read_backward(norm, hit.start, rules)
            if res is not None:
                candidates.append(res)
        elif cat == "investor_after":
            # "led by Kestrel Partners and Bluefin", "mené par Arvane": unknown investors;
            # a one-word cue ("from", "von") only right after an amount or a funding word.
            if " " in hit.phrase.strip() or _after_amount(
                lower, hit.start, money_spans, hits, lex.language
            ):
                for res in (
                    _investors_named(norm, lower, hit.end, lex, rules)
                    if free(hit.end, hit.end + 60)
                    else ()
                ):
                    candidates.append(res)
                    investors.add((res[0], res[1]))
        elif cat in _TARGET_CATEGORIES:
            if cat == "invest_noun":
                # "following Orbitra's $40m investment": the possessive is the investor.
                lo40 = max(0, hit.start - 40)
                pm = (
                    _POSSESSOR.search(norm, lo40, hit.start)
                    if "s " in norm[lo40 : hit.start] and "'" in norm[lo40 : hit.start]
                    else None
                )
                if pm is not None:
                    own = _read_backward(norm, pm.start(1) + len(pm.group(1)), rules)
                    if own is not None and own[2] not in known_ends:
                        candidates.append(own)
                # "la prise de participation de Tessor", "investment by Orbitra"
                giver = (
                    _giver_after(norm, lower, hit, lex, rules)
                    if free(hit.end, hit.end + 60)
                    else None
                )
                if giver is not None:
                    candidates.append(giver)
                    investors.add((giver[0], giver[1]))
            res = (
                _target_after(norm, lower, hit, lex, rules, known_starts)
                if free(hit.end, hit.end + 90)
                else None
            )
            if res is not None:
                candidates.append(res)
            # "Cognition rachète Windsurf": a known target, the investor still unknown;
            # "Kaszek lideró la serie A": the round itself is the object.
            round_next = cat == "back_weak" and any(0 <= f - hit.end <= 12 for f in funding_starts)
            if (
                (res is not None or round_next or _known_next(norm, hit.end, known_starts))
                and cat != "invest_noun"
                and not (rules.capitalised_nouns and norm[hit.start].isupper())
            ):
                # "Kestrel Partners invests €10m in Synaptix": the unknown investor.
                pos = _skip_aux_backward(lower, hit.start, rules)
                after = lower[hit.end : hit.end + 12].split()
                if after and after[0] == "sich":
                    after = after[1:]
                if rules.capitalised_nouns and after and after[0] in rules.definite:
                    pos = -1  # verb-second: "Parallel beteiligt sich der Konzern"
                if pos >= 0 and pos not in known_ends:
                    subj = _read_backward(norm, pos, rules)
                    if subj is not None and (
                        not rules.capitalised_nouns
                        # "Investoren stecken 100 Millionen Euro in ...": a noun, no name
                        or (
                            _at_clause_start(norm, subj[1], rules) and not german_noun(subj[0], lex)
                        )
                    ):
                        candidates.append(subj)
                        if round_next:
                            investors.add((subj[0], subj[1]))  # it leads a round
        elif cat in SUBJECT_CATEGORIES:
            if rules.capitalised_nouns and norm[hit.start].isupper() and hit.start > 0:
                continue  # a German noun ("Betriebsbedingte Kündigungen") has no subject
            if cat in ("raise", "raise_weak"):
                # Only with an amount or a funding word after the verb in the sentence.
                stop = _sentence_end(norm, hit.end)
                # German puts the verb last: "Velora will 100 Mio. Euro einsammeln".
                lo = _sentence_bounds(norm, hit.start)[0] if rules.capitalised_nouns else hit.end
                has_money = any(lo <= s < stop for s in money_starts)
                has_funding = any(lo <= s < stop for s in funding_starts)
                if not (has_money or has_funding):
                    continue
            # German verb-final: the job noun comes first ("BSH will 3.500 Jobs abbauen");
            # a German headline's cut may leave the jobs to the summary ("Goodyear schließt
            # Werk in Fulda": other languages read such subjects as headline openers).
            if (
                cat == "cut"
                and not any(0 <= s - hit.end <= 40 for s in job_starts)
                and not (
                    rules.capitalised_nouns
                    and (
                        any(0 <= hit.start - s <= 40 for s in job_starts)
                        or (job_starts and "\n" in norm and hit.end <= norm.index("\n"))
                    )
                )
            ):
                continue  # "X supprime 150 postes", not "X cuts prices"
            if cat in ("layoff", "cut"):
                sent = _sentence_bounds(norm, hit.start)[0]
                if sent not in employer_done:  # once per sentence
                    employer_done.add(sent)
                    emp = (
                        _employer_after_prep(norm, lower, hit, lex, rules)
                        if free(hit.start - 80, hit.end + 80)
                        else None
                    )
                    if emp is not None:
                        candidates.append(emp)
            pos = _skip_aux_backward(lower, hit.start, rules)
            if pos in known_ends:
                continue  # the subject is a known organisation already
            res = _read_backward(norm, pos, rules)
            if res is not None:
                prev = lower[max(0, res[1] - 6) : res[1]].split()
                if prev and prev[-1] in _lang_words(lex.language, "links"):
                    res = None  # "la fábrica de Vigo perderán ...": a complement, no subject
            if res is None and not rules.capitalised_nouns:
                sent = _sentence_bounds(norm, hit.start)[0]
                if sent not in subject_done:  # once per sentence
                    subject_done.add(sent)
                    if free(sent, sent + 40):
                        res = _sentence_subject(norm, lower, hit, known_ends, rules, lex.stopwords)

            if (
                res is not None
                and rules.capitalised_nouns
                and not _at_clause_start(norm, res[1], rules)
            ):
                # German capitalises every noun: only a sentence-initial subject counts.
                res = None
            if (
                res is None
                and rules.capitalised_nouns
                and cat != "acquired_by"
                and (
                    cat in ("raise", "raise_weak")
                    or _sentence_bounds(norm, hit.start)[0] not in aux_done
                )
            ):
                # German verb-second with a verb-final raise or cut: "Velora will 100 Mio.
                # einsammeln", "BSH will 3.500 Jobs abbauen" (cuts: once per sentence)
                if cat in ("layoff", "cut"):
                    aux_done.add(_sentence_bounds(norm, hit.start)[0])
                res = _aux_subject(norm, lower, hit, known_ends, rules)
                if (
                    res is not None
                    and cat in ("layoff", "cut")
                    and (
                        norm[_sentence_bounds(norm, hit.start)[0] : res[1]].strip(" \"'„“«")
                        or german_noun(res[0], lex)
                    )
                ):
                    res = None  # "Der Autobauer will ...": an article and a noun, no name
            if res is not None:
                candidates.append(res)
    if any_free and (money_spans or funding_starts):
        # "15 Mio. Franken für Lakeside Vision": the company an amount goes to; "Nueva
        # ronda para Lumencia": the company a round is for.
        # "la série B de Tessaro": whose round it is.
        # "capta 12 millones de dólares de Kaszek": who gives an amount raised.
        fors = _lang_words(lex.language, "amount_for")
        froms = _lang_words(lex.language, "amount_from")
        raised = [h.end for h in hits if h.category in ("raise", "raise_weak")] if froms else []
        ends = [
            (e, _words_union(lex.language, "amount_for", "amount_from"))
            if raised and any(0 < s - r <= 40 for r in raised)
            else (e, fors)
            for s, e in money_spans
        ]
        if funding_hits:
            after_round = _words_union(lex.language, "amount_for", "round_of")
            ends += [(h.end, after_round) for h in funding_hits]
        for m_end, preps in ends:
            words = lower[m_end : m_end + 12].split(" ", 2)
            if len(words) == 3 and words[0] == "" and words[1] in preps:
                pos = m_end + 2 + len(words[1])
                if words[1] in fors:  # "para la startup X"; "la serie B de la startup de
                    pos = _skip_company_noun(norm, lower, pos, lex, rules)[0]  # Madrid": no
                res = _read_forward(norm, pos, rules)
                if res is not None and res[1] - pos <= 1 and not _is_cue_word(res[0], lex):
                    candidates.append(res)
                    if words[1] in froms:
                        investors.add((res[0], res[1]))
        # "Tessaro's $50m Series B": the possessor of a round raises it.
        for h in funding_hits:
            lo = max(0, h.start - 30)
            if "'s " not in norm[lo : h.start]:
                continue
            pm = _POSSESSOR.search(norm, lo, h.start)
            if pm is not None and all(
                _NUMERIC.fullmatch(w) or w[:1] in "$€£" or (w[-1:] in "mbn" and w[:1].isdigit())
                for w in norm[pm.end(1) + 3 : h.start].split()
            ):
                own = _read_backward(norm, pm.end(1), rules)
                if own is not None and own[2] not in known_ends:
                    candidates.append(own)
    if any_free and "-led " in lower:
        # "after a Ridgeway-led raise": the lead named as a prefix.
        for m in _LED_PREFIX.finditer(norm):
            res = _read_backward(norm, m.end(1), rules)
            if res is not None:
                candidates.append(res)
                investors.add((res[0], res[1]))
    if any_free:
        candidates += _ai_named(norm, lower, hits, lex, rules)
    if any_free and free(0, 60):
        candidates += _title_subjects(norm, lower, hits, known_starts, lex, rules, money_starts)
    # Investors' names first, longest first ("Durable Capital Partners" over "Durable
    # Capital"); the other candidates keep their order (the sort is stable).
    candidates.sort(key=lambda c: (0, c[1] - c[2]) if (c[0], c[1]) in investors else (1, 0))

    # Short forms of multi-word names met in this text ("Stability" after "Stability AI").
    short: dict[str, OrgMention] = {}
    for o in orgs:
        first = o.name.split(" ")[0]
        if (
            " " in o.name
            and len(first) >= 4
            and first[0].isupper()
            and first not in rules.nonnames
            and first.lower() not in rules.stop_lower
            and first not in gaz.aliases
        ):
            short.setdefault(first, o)
    known_names = {o.name for o in orgs} | {p.name for p in people}
    for name, start, end in candidates:
        if rules.capitalised_nouns and " " in name:
            # "Flugzeugbauer Grob Aircraft": a German compound noun describes the name.
            name, start, end = _after_descriptor((name, start, end), lex)
        if any(start < e and s < end for s, e in taken):
            continue
        if any(start < e and s < end for s, e in money_spans):
            continue  # "das Berliner Start-up 50 Millionen Euro ...": an amount, not a name
        if name in known_names or name in gaz.aliases:
            continue
        if any(name in p.name.split(" ") for p in people):
            continue
        if name in short:
            continue  # a short form of a name already found; added below
        if name in gaz.first_tokens:
            entry = gaz.orgs[gaz.first_tokens[name]]
            short[name] = OrgMention(entry.name, name, start, end, True, entry.wikidata, entry.kind)
            continue
        kind = "investor" if (name, start) in investors else "company"
        orgs.append(OrgMention(name, name, start, end, False, None, kind))
        taken.append((start, end))
        short.setdefault(name, orgs[-1])
    for form, o in short.items():
        for start in _word_positions(norm, form):
            end = start + len(form)
            if not any(start < e and s < end for s, e in taken):
                orgs.append(OrgMention(o.name, form, start, end, o.known, o.wikidata, o.kind))
                taken.append((start, end))
    orgs.sort(key=_START)
    return orgs, people


#: Cue categories that make a sentence about business (context for ambiguous names).
_BUSINESS = DEAL_AND_CUT_CUES | {
    "job",
    "co_before",
    "co_after",
    "co_suffix",
    "anaphor",
    "announced",
    "ai",
    "valuation",
    "amount",
}


def _ambiguous_ok(
    norm: str,
    lower: str,
    start: int,
    end: int,
    hits: list[CueHit],
    other_orgs: bool,
    rules: NameRules,
) -> bool:
    """Accept a one-word name that is also a common word or place ("Amazon", "Orange")?

    Not after a definite article ("the Amazon") nor before another capitalised word
    ("Harvey Weinstein"); and only inside a sentence, after other organisations, or
    in a sentence with business cues.
    """
    before = lower[max(0, start - 5) : start].split()
    if before and before[-1] in rules.definite:
        return False
    nxt = _NEXT_WORD.match(norm, end)
    if nxt and nxt.group(1)[0].isupper() and nxt.group(1).rstrip(".,") not in rules.suffixes:
        return False
    lo = max(norm.rfind(". ", 0, start), norm.rfind("\n", 0, start), 0)
    hi = norm.find(". ", end)
    hi = len(norm) if hi < 0 else hi
    if any(lo <= h.start < hi and h.category in _BUSINESS for h in hits):
        return True
    at_start = norm[lo:start].strip(" .\n\"'«“") == ""
    return other_orgs or not at_start


_NEXT_WORD = re.compile(r" ([^\W\d_][\w.-]*)")


#: Investment cues after which an unknown name introduced by a target preposition is
#: the company invested in ("investiert 45 Mio. Euro in Synaptix, das ...").
_TARGET_CATEGORIES = frozenset({"invest", "invest_noun", "back", "back_weak", "acquire"})
_PATTERN_CATEGORIES = (
    frozenset({"co_before", "co_after", "co_suffix", "investor_after"})
    | SUBJECT_CATEGORIES
    | _TARGET_CATEGORIES
)
_HAS_CAPITAL = re.compile(r"[A-ZÀ-Þ]")
_INVESTOR_ARM = re.compile(r" ([A-Z][A-Za-z]+)(?![\w-])")
_LED_PREFIX = re.compile(r"(?<![\w-])([A-ZÀ-Þ][\w&.']*)-led ")
_CAP_OR_DIGIT = re.compile(r"[A-ZÀ-Þ0-9]")
_POSSESSOR = re.compile(r"([A-ZÀ-Þ][\w.&-]*)['’]s (?:[^\s]+ ){0,3}$")
#: Categories whose rules can only add unknown names (skipped when every capitalised
#: word of the text is inside a known name).
_UNKNOWN_ONLY = frozenset({"investor_after", "invest", "invest_noun", "back", "acquire"})
DEMONYM_ENDINGS = (
    "dia",  # "la india Fractal"
    "eña",
    "eño",
    "ena",
    "eno",
    "ana",
    "ano",
    "esa",
    "és",
    "ense",
    "ina",
    "ino",
    "aise",
    "ais",
    "ienne",
    "ien",
    "ande",
    "and",
    "aine",
    "ain",
    "ola",
    "ol",
    "ca",
    "co",
)
_ADJECTIVE = re.compile(r" ([a-zà-ÿ]{3,})(?= [A-ZÀ-Þ])")
#: The same with the field after the adjective: "la start-up genevoise d'IA Cerebrix",
#: "la startup madrileña de IA Kairos".
_ADJECTIVE_AI = re.compile(r" ([a-zà-ÿ]{3,}) (?:d'|d’|de |de l'|de la )(?:IA|AI)(?= [A-ZÀ-Þ])")
#: A capitalised word and "AI": the usual shape of an AI company's name ("Kontext AI").
#: (The lookbehind sits after the capital, so the regex engine scans for capitals fast.)
_AI_NAMED = re.compile(r"([A-ZÀ-Þ](?<![\w.&-].)[a-zà-ÿ]+[\w-]*) AI(?![\w.-])")
#: German noun endings: a capitalised word ending so is a noun, not a company name.
_NOUN_ENDINGS = (
    "ung",
    "heit",
    "keit",
    "schaft",
    "tät",
    "tion",
    "ionen",
    "nisse",
    "en",
    "ern",
    "ment",
    "ismus",
)


def german_noun(name: str, lex: Lexicon) -> bool:
    """A capitalised word that reads as a noun: a noun ending ("-ung", "-en") or a
    company noun ("Zulieferer-Betrieb", "Autohersteller")."""
    low = name.lower()
    return low.endswith(_NOUN_ENDINGS) or low.endswith(_long_nouns(_company_nouns(lex)))


_CAP_WORD = re.compile(r"(?<![\w'’-])[A-ZÀ-Þ][\w'’.&+-]*|(?<![\w'’-])[a-z]{1,3}[A-Z][\w.+-]*")


def _has_word_cap(text: str, lo: int, hi: int) -> bool:
    """`_WORD_CAP.search(text, lo, hi) is not None`, several times faster.

    Every match holds a capital ([A-ZÀ-Þ]; "×" sits in that range): a window without
    one needs no regex at all. Otherwise the anchor pattern finds the capital of a
    match; a match opening with lower-case letters ("xAI") must still start at `lo`
    or later.
    """
    window = text[lo:hi]
    if window.islower() and "×" not in window:
        return False
    pos = lo
    while (m := _WORD_CAP_ANCHOR.search(text, pos, hi)) is not None:
        q = m.start()
        start = q
        while start > 0 and ("a" <= text[start - 1] <= "z" or "0" <= text[start - 1] <= "9"):
            start -= 1  # a capital after lower-case letters ends a match opening there
        if start >= lo:
            return True
        pos = q + 1
    return False


def _blank_out(norm: str, spans: list[tuple[int, int]]) -> str:
    """`norm` with the given spans replaced by spaces (same length)."""
    if not spans:
        return norm
    parts: list[str] = []
    last = 0
    for a, b in sorted(spans):
        if a >= last:
            parts += [norm[last:a], " " * (b - a)]
            last = b
    return "".join(parts) + norm[last:]


# Small caches: they serve the calls within one article; larger ones would also serve a
# benchmark's repeated texts and flatter its figure.
@lru_cache(maxsize=16)
def title_case(norm: str, start: int, end: int, lang: str = "en") -> bool:
    """A headline in Title Case ("Microsoft To Invest In Japan"): capitals say nothing.

    Judged on the function words of the language, which are capitalised only in such
    headlines; names and (German) nouns do not count either way.
    """
    common = _common_words(lang)
    words = [w for w in norm[start:end].split()[1:] if w.lower().strip(".,;:!?") in common]
    if len(words) < 2:
        return False
    return sum(w[0].isupper() for w in words) >= 0.6 * len(words)


@cache
def _common_words(lang: str) -> frozenset[str]:
    # Function words only: German capitalises its nouns, cue words included.
    return frozenset(w for w in lexicon(lang).stopwords if len(w) > 1)


@lru_cache(maxsize=64)
def _sentence_bounds(norm: str, pos: int) -> tuple[int, int]:
    """(start, end) of the sentence around `pos` (cheap: ". " and newlines)."""
    dot = norm.rfind(". ", 0, pos)
    lo = max(dot + 2 if dot >= 0 else 0, norm.rfind("\n", 0, pos) + 1)
    return lo, _sentence_end(norm, pos)


def _ai_named(
    norm: str, lower: str, hits: list[CueHit], lex: Lexicon, rules: NameRules
) -> list[tuple[str, int, int]]:
    """Unknown names shaped like "Kontext AI", "Redacta AI" in a sentence about a deal or
    a company; not "Generative AI", "its Gemini AI" (a product) nor a known name."""
    if " AI" not in norm or not any(h.category in _COMPANY_CONTEXT for h in hits):
        return []
    gaz = gazetteer()
    out: list[tuple[str, int, int]] = []
    for m in _AI_NAMED.finditer(norm):
        word = m.group(1)
        if (
            word in rules.nonnames
            or word in rules.strip
            or word.lower() in rules.stop_lower
            or word in gaz.aliases
            or word in gaz.first_tokens
            or _is_cue_word(word, lex)
        ):
            continue
        prev = lower[max(0, m.start() - 12) : m.start()].split()
        if prev and (prev[-1] in rules.definite or prev[-1] in _pronouns(lex)):
            continue
        if prev and norm[m.start() - len(prev[-1]) - 1 : m.start()].strip()[:1].isupper():
            continue  # "Abu Dhabi AI": the end of a longer capitalised phrase
        nxt = _NEXT_WORD.match(lower, m.end())
        if nxt and nxt.group(1) in _company_nouns(lex):
            continue  # "Dhabi AI group G42": an attribute of the next name
        lo, hi = _sentence_bounds(norm, m.start())
        if (m.start() == lo and rules.capitalised_nouns) or title_case(norm, lo, hi, lex.language):
            continue
        if not any(lo <= h.start < hi and h.category in _COMPANY_CONTEXT for h in hits):
            continue
        out.append((m.group(0), m.start(), m.end()))
    return out


#: Cue categories that make a sentence about a deal, job cuts or a named company.
_COMPANY_CONTEXT = DEAL_AND_CUT_CUES | {"co_before", "co_after", "valuation"}


def _pronouns(lex: Lexicon) -> frozenset[str]:
    return _lang_words(lex.language, "pronouns")


@cache
def _words_union(lang: str, key: str, other: str) -> frozenset[str]:
    """The words of two company/<key> lists of the lexicon together (computed once)."""
    return _lang_words(lang, key) | _lang_words(lang, other)


@cache
def _lang_words(lang: str, key: str) -> frozenset[str]:
    """Lower-cased single words of the lexicon's company/<key> list ("its", "sein")."""
    return frozenset(p.lower() for p in lexicon(lang).company.get(key, ()) if " " not in p)


def _is_cue_word(name: str, lex: Lexicon) -> bool:
    """True when a word of `name` is a cue word of the lexicon ("New Financing")."""
    words = _name_blocking_words(lex.language) or _all_cue_words()
    nouns = _company_nouns(lex)
    return any(t.lower() in words and t.lower() not in nouns for t in name.split()) or (
        name.lower() in _phrases(lex.language)
    )


@cache
def _name_blocking_words(lang: str) -> frozenset[str]:
    """Cue words that cannot be part of a company name: all of the language's own but the
    vocabulary of AI, which names carry ("Acme Robotics", "Agile Robots"), the bare
    "AI"/"IA"/"KI" aside."""
    lex = lexicon(lang)
    ai = {w.lower() for w in lex.cues.get("ai", ())}
    ai -= {w.lower() for w in lex.company.get("ai_name", ())}  # "IA Cerebrix" is no name
    return own_cue_words(lang) - ai


@cache
def _phrases(lang: str) -> frozenset[str]:
    """Every cue phrase of `lang`, lower-cased ("inteligencia artificial")."""
    return frozenset(p.strip("*").lower() for ps in lexicon(lang).cues.values() for p in ps)


@cache
def _all_cue_words() -> frozenset[str]:
    return frozenset().union(*(own_cue_words(c) for c in available_languages()))


def _target_after(
    norm: str,
    lower: str,
    hit: CueHit,
    lex: Lexicon,
    rules: NameRules,
    known_starts: set[int] | frozenset[int] = frozenset(),
) -> tuple[str, int, int] | None:
    """An unknown name right after a target preposition shortly after an investment cue.

    "invests $45m in Synaptix", "tomará una participación en Peritia, cuya ...". In
    German, where every noun is capitalised, the name must end its clause and not end
    like a noun.
    """
    cap = _HAS_CAPITAL.search(norm, hit.end, hit.end + 90)
    if cap is None or cap.start() in known_starts:
        return None  # no capitalised word ahead, or the first one is a known name
    nl = norm.find("\n", hit.end)
    stop = min(hit.end + 60, len(norm) if nl < 0 else nl)  # abbreviations ("Mio.") are no end
    preps = words_regex(lex.language, "target_prep")
    last = hit.phrase.strip("*").lower().rsplit(" ", 1)[-1]
    starts: list[int] = []
    if hit.category == "acquire":
        starts.append(hit.end)  # "buys Casetext": the object follows the verb
    if (
        preps.fullmatch(last)
        or last in _lang_words(lex.language, "links")
        # "bets on X", "setzt auf X", "apuesta por X": the phrase ends on its preposition
        or (hit.category == "back" and " " in hit.phrase.strip())
    ):
        starts.append(hit.end)  # "entre au capital de Cortexia", "participación en Peritia"
    else:
        m = preps.search(lower, hit.end, stop)
        if m is not None:
            starts.append(m.end())  # "übernimmt 20 Prozent an dem KI-Start-up Quantix"
    for pos in starts:
        res = _name_at(norm, lower, hit, lex, rules, pos)
        if res is not None:
            return res
    return None


def _after_descriptor(res: tuple[str, int, int], lex: Lexicon) -> tuple[str, int, int]:
    """The name without a leading description: "Londoner Investor Ostmark Capital" ->
    "Ostmark Capital" (German capitalises the nouns that describe a name)."""
    name, _, end = res
    words = name.split(" ")
    nouns = _company_nouns(lex)
    compounds = _long_nouns(nouns) if lex.extra.get("capitalised_nouns") else ()
    for i in range(len(words) - 2, -1, -1):
        low = words[i].lower()
        if _is_noun(low, nouns) or (compounds and low.endswith(compounds)):
            rest = " ".join(words[i + 1 :])
            return rest, end - len(rest), end
    return res


def _describes_a_name(
    norm: str, pos: int, known_starts: set[int], nouns: frozenset[str], words: int = 3
) -> bool:
    """Whether the lower-case words after `pos` (at most `words`) end in a company noun or
    run into a known name: then what comes before `pos` describes a name."""
    for _ in range(words):
        m = _NEXT_WORD.match(norm, pos)
        if m is None or not m.group(1).islower():
            return False
        if _is_noun(m.group(1), nouns):
            return True
        pos = m.end()
        if pos + 1 in known_starts:
            return True
    return False


def _known_next(norm: str, pos: int, known_starts: set[int]) -> bool:
    """Whether the first capitalised word within 60 characters after `pos` is a known name."""
    cap = _HAS_CAPITAL.search(norm, pos, pos + 60)
    return cap is not None and cap.start() in known_starts


def _name_at(
    norm: str, lower: str, hit: CueHit, lex: Lexicon, rules: NameRules, pos: int
) -> tuple[str, int, int] | None:
    """The unknown name a target phrase starting at `pos` names (see `_target_after`)."""
    if norm[pos : pos + 45].islower() or not _HAS_CAPITAL.search(norm, pos, pos + 45):
        return None  # no capitalised word close enough to be a name
    prep_end = pos
    pos, noun = _skip_company_noun(norm, lower, pos, lex, rules)
    if rules.capitalised_nouns and pos > prep_end + 1 and not noun:
        return None  # "in ein Programm": after a bare article, a German noun
    res = _read_forward(norm, pos, rules)
    if res is None:
        return _lower_case_name(norm, pos, lex, rules) if noun else None
    name, start, end = res
    if start - pos > 1 or name in rules.nonnames or _is_cue_word(name, lex):
        return None
    if " " not in name and "-" in name and name.rsplit("-", 1)[1][:1].islower():
        return None  # "AI-designed drugs", "Paris-based": an attribute, not a name
    nxt = _NEXT_WORD.match(lower, end)
    if nxt and nxt.group(1) in _company_nouns(lex):
        return None  # "in ChatGPT maker OpenAI": an attribute of the next name
    lo, hi = _sentence_bounds(norm, hit.start)
    if title_case(norm, lo, hi, lex.language):
        return None
    if rules.capitalised_nouns:
        after = norm[end : end + 1]
        if _separable_tail(lex.language).match(norm, end) or (
            nxt is not None and nxt.group(1) in _lang_words(lex.language, "name_followers")
        ):
            after = ""  # "steigt bei Noxtua ein", "kauft Altair für 10 Milliarden Dollar"
        if after not in ("", ",", ";", ".", "(", "\n", "?", "!", ":") or german_noun(name, lex):
            return None
    return res


#: A lower-case word closing its clause: "in Berliner NLP-Firma deepset."
_LOWER_NAME = re.compile(r" ?([a-z][a-z0-9]{2,}(?:[.-][a-z0-9]+)?)(?=$|[\n,;.:!?)])")
#: Endings of verbs, participles and adjectives, which a lower-case name does not have.
_NOT_NAME_ENDINGS = (
    "ed",
    "ing",
    "ly",
    "iert",
    "en",
    "ment",
    "tion",
    "ive",
    "al",
    "ous",
    "ful",
    "able",
    "ible",
    "isch",
    "ische",
    "lich",
    "ig",
    "weit",
    "wide",
    "ward",
    "wards",
    "self",
    "selves",
    *DEMONYM_ENDINGS,
)


def _lower_case_name(
    norm: str, pos: int, lex: Lexicon, rules: NameRules
) -> tuple[str, int, int] | None:
    """A name written in lower case ("deepset") right after a company noun, ending its
    clause in the headline: no common word, cue word or word shaped like a verb, an
    adjective or an adverb ("weltweit")."""
    nl = norm.find("\n")
    if 0 <= nl < pos:
        return None  # a summary has room to say more: only the headline is this terse
    m = _LOWER_NAME.match(norm, pos)
    if m is None:
        return None
    word = m.group(1)
    if (
        word in rules.stop_lower
        or word.endswith(_NOT_NAME_ENDINGS)
        or (word.startswith("ge") and word.endswith("t"))  # "gesteckt": a participle
        or _is_noun(word, _company_nouns(lex))
        or _is_cue_word(word, lex)
    ):
        return None
    return word, m.start(1), m.end(1)


_WORD = re.compile(r" *([^\s,;:()]+)")


@cache
def _separable_tail(lang: str) -> re.Pattern[str]:
    """A separable-verb particle of `lang` closing the clause after a name (German)."""
    words = lexicon(lang).extra.get("separable_particles") or ()
    if not words:
        return re.compile(r"(?!x)x")
    body = "|".join(re.escape(str(w)) for w in words)
    return re.compile(rf" (?:{body})(?=$|[\n,;.:)])")


def _employer_after_prep(
    norm: str, lower: str, hit: CueHit, lex: Lexicon, rules: NameRules
) -> tuple[str, int, int] | None:
    """The employer named after "at" / "chez" / "bei" near a job-cut cue: "1,000 jobs to
    go at carmaker Norland Motors", "Stellenabbau bei Fensterbauer Heller"."""
    preps = _employer_preps(lex.language)
    if preps is None:
        return None
    s_lo, s_hi = _sentence_bounds(norm, hit.start)
    lo, hi = max(s_lo, hit.start - 80), min(s_hi, hit.end + 80)
    if preps.search(lower, lo, hi) is None:
        return None  # no preposition near (the cheap test first)
    if title_case(norm, s_lo, s_hi, lex.language):
        return None
    need_noun = _lang_words(lex.language, "employer_preps_need_noun")
    for m in preps.finditer(lower, lo, hi):
        if _CAP_OR_DIGIT.search(norm, m.end(), min(len(norm), m.end() + 160)) is None:
            continue  # no name can start after this preposition (cheap pre-check)
        pos, noun = _skip_company_noun(norm, lower, m.end(), lex, rules)
        if (
            m.group(0).strip() in need_noun
            and not noun
            and not hit.start < m.start() <= hit.end + 1
        ):
            continue  # right after the cue it needs none: "Despidos en X", "ERE en X"
        if rules.capitalised_nouns and pos > m.end() + 1 and not noun:
            continue
        res = _read_forward(norm, pos, rules)
        if res is None or res[1] - pos > 1 or _is_cue_word(res[0], lex):
            continue
        if rules.capitalised_nouns and german_noun(res[0], lex):
            continue
        nxt = _NEXT_WORD.match(lower, res[2])
        if (
            not rules.capitalised_nouns
            and nxt
            and nxt.group(1) not in rules.stop_lower
            and " " not in m.group(0)  # "the collapse of X puts ...": a verb may follow
        ):
            continue  # "at Iowa tractor plants": a place or an attribute, not the employer
        return res
    return None


@cache
def _employer_preps(lang: str) -> re.Pattern[str] | None:
    # Phrases too ("la liquidation de X"), not only single words.
    words = sorted(
        {w.lower() for w in lexicon(lang).company.get("employer_preps", ())}, key=len, reverse=True
    )
    if not words:
        return None
    return re.compile(rf"{word_start_alternation(words)}(?= )")


def _sentence_subject(
    norm: str,
    lower: str,
    hit: CueHit,
    known_ends: set[int],
    rules: NameRules,
    stopwords: frozenset[str],
) -> tuple[str, int, int] | None:
    """A name opening the sentence, one verb before the cue: "Marlow Insurance offers
    voluntary redundancy to 700 staff" (not in German, where nouns are capitalised)."""
    lo, _ = _sentence_bounds(norm, hit.start)
    res = _read_forward(norm, lo, rules)
    if res is None or res[2] in known_ends:
        return None
    name, start, end = res
    gap = lower[end : hit.start].split()
    if norm[end : end + 2] in (", ", ": ", " :") and len(gap) <= 14:
        pass  # "Kestria, qui développe des modèles de langage, lève 40 millions", "X : ..."
    elif not 1 <= len(gap) <= 3 or not gap[0].isalpha() or gap[0] in stopwords:
        return None
    if norm[start:end] != name or start - lo > 4 or name.split()[0] in TITLES:
        return None
    return res


def _title_subjects(
    norm: str,
    lower: str,
    hits: list[CueHit],
    known_starts: set[int],
    lex: Lexicon,
    rules: NameRules,
    money_starts: list[int] | None = None,
) -> list[tuple[str, int, int]]:
    """The name opening a business headline, followed by its verb: "Deezer compte
    désormais 9,7 millions d'abonnés", "Mars agrees to buy Kellanova", "FlexAI sort de
    l'ombre avec 30 millions de dollars" (an amount makes it business too). Not in
    German, where a headline may open with any noun."""
    out: list[tuple[str, int, int]] = []
    if not norm[:1].isupper():
        return out
    if rules.capitalised_nouns:
        return _german_title_topic(norm, hits, known_starts, lex, rules)
    end = norm.find("\n")
    end = len(norm) if end < 0 else end
    if not any(h.end <= end and h.category in _HEADLINE_CONTEXT for h in hits) and not any(
        s < end for s in money_starts or ()
    ):
        return out
    if title_case(norm, 0, end, lex.language):
        return out
    colon = max(norm.find(": ", 0, end), norm.find(" : ", 0, end) + 1)
    for at in (0, colon + 2) if colon > 0 else (0,):
        if any(at <= k <= at + 4 for k in known_starts):
            continue  # the headline opens with a known name
        res = _read_forward(norm, at, rules)
        if (
            res is None
            or res[1] in known_starts
            # past an article, or a headline's opening verb ("Cierra Textiles X: ...")
            or (res[1] > at + 4 and norm[at : res[1]].strip() not in rules.strip)
        ):
            continue
        name, start, stop = res
        if norm[start:stop] != name or name.split()[0] in TITLES or _is_cue_word(name, lex):
            continue
        if " " not in name and name.lower().endswith(_COMMON_NOUN_ENDINGS):
            continue  # "Robotics investments ...", "Chipmaking ...": a common noun
        if at == 0 and norm[stop : stop + 2] in (": ", " :"):
            out.append(res)  # "Kairo: Orbitra confirms ...": the headline's subject
            continue
        nxt = _NEXT_WORD.match(norm, stop)
        if (
            nxt is None
            or not nxt.group(1).islower()
            # "Debenhams to disappear", "Swiss va biffer": an auxiliary still opens the verb
            # (not before a colon: "Stable Diffusion to live on: Stability AI ...")
            or (
                nxt.group(1) in lex.stopwords
                and (nxt.group(1) not in _lang_words(lex.language, "aux") or colon > 0)
            )
        ):
            continue
        if _describes_a_name(norm, stop, known_starts, _company_nouns(lex)):
            # "Voice-AI start-up Parlant", "Humanoid robot maker 1X", "Medical scribe
            # Abridge": the opening word describes the company named after it.
            continue
        out.append(res)
    return out


def _german_title_topic(
    norm: str, hits: list[CueHit], known_starts: set[int], lex: Lexicon, rules: NameRules
) -> list[tuple[str, int, int]]:
    """A German headline's topic before its colon, or its subject before a lower-case verb
    in a headline about a deal or job cuts, when it cannot be a noun phrase: an acronym or
    several words none of which reads as a noun, a cue or an inflected adjective ("MAN
    Energy Solutions: Bis zu 4000 Jobs fallen weg", "Norvik Automobile kündigt
    Sparprogramm an"; not "Neue Runde:")."""
    if 0 in known_starts:
        return []
    end = norm.find("\n")
    end = len(norm) if end < 0 else end
    colon = norm.find(": ", 0, min(end, 60))
    if colon < 0 and not any(h.end <= end and h.category in DEAL_AND_CUT_CUES for h in hits):
        return []  # the cheap tests first: no colon and no deal or cut in the headline
    res = _read_forward(norm, 0, rules)
    if res is None or res[1] != 0 or norm[: res[2]] != res[0]:
        return []
    if res[2] == colon:
        pass
    elif not (
        (nxt := _NEXT_WORD.match(norm, res[2])) is not None
        and nxt.group(1).islower()
        and nxt.group(1) not in rules.stop_lower
        and any(h.end <= end and h.category in DEAL_AND_CUT_CUES for h in hits)
    ):
        return []
    tokens = res[0].split()
    acronym = len(tokens) == 1 and res[0].isupper() and 2 <= len(res[0]) <= 5
    if not acronym and (
        len(tokens) < 2
        or tokens[0].endswith(("e", "er", "es", "en", "em"))
        or any(german_noun(t, lex) or t in rules.nonnames for t in tokens)
        or _is_cue_word(res[0], lex)
    ):
        return []
    return [res]


_COMMON_NOUN_ENDINGS = ("ing", "ics", "tion", "ment", "ness", "ity", "ism", "ismo", "ción")
_HEADLINE_CONTEXT = _COMPANY_CONTEXT | {"job", "hire", "not_funding", "anaphor", "amount"}


def _aux_subject(
    norm: str, lower: str, hit: CueHit, known_ends: set[int], rules: NameRules
) -> tuple[str, int, int] | None:
    """A sentence-opening name followed by an auxiliary ("will", "soll", "hat")."""
    lo, _ = _sentence_bounds(norm, hit.start)
    if _aux_re(rules.aux_words).search(lower, lo, min(hit.start, lo + 80)) is None:
        return None  # no auxiliary near the sentence's start (the cheap test first)
    res = _read_forward(norm, lo, rules)
    if res is None or res[2] in known_ends or res[1] - lo > 4 or norm[res[1] : res[2]] != res[0]:
        return None
    nxt = _NEXT_WORD.match(lower, res[2])
    if nxt is None or nxt.group(1) not in rules.aux_words or hit.start - res[2] > 60:
        return None
    return res


@cache
def _aux_re(words: frozenset[str]) -> re.Pattern[str]:
    """One of the auxiliary words as a whole word."""
    if not words:
        return re.compile(r"(?!x)x")
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf" (?:{body})(?![\w-])")


#: Titles before a person's name ("Madame Pénicaud, ..."): such a subject is no company.
TITLES = frozenset(
    {
        "Mr",
        "Mr.",
        "Mrs",
        "Ms",
        "Dr",
        "Madame",
        "Monsieur",
        "Mme",
        "M.",
        "Herr",
        "Frau",
        "Señor",
        "Señora",
        "Don",
        "Doña",
        "Sir",
        "Lord",
        "President",
        "Président",
        "Minister",
    }
)


def _giver_after(
    norm: str, lower: str, hit: CueHit, lex: Lexicon, rules: NameRules
) -> tuple[str, int, int] | None:
    """A capitalised name after a noun of investment and a linking word, past an amount:
    "investissement de 40 M€ de Tessor", "inversión de Orbitra", "investment by X"."""
    links = _giver_links(lex.language)
    if links is None:
        return None
    m = links.search(norm, hit.end, min(len(norm), hit.end + 50))
    if m is None or any(c in lower[hit.end : m.start()] for c in ",;:\n"):
        return None
    res = _read_forward(norm, m.end(), rules)
    if res is None or res[1] - m.end() > 1 or res[0] in rules.nonnames:
        return None
    if _is_cue_word(res[0], lex) or (rules.capitalised_nouns and german_noun(res[0], lex)):
        return None
    if rules.capitalised_nouns and norm[res[2] : res[2] + 1] not in ("", ",", ";", ".", "("):
        return None  # German: a name, not a noun phrase, ends its clause
    return res


@cache
def _giver_links(lang: str) -> re.Pattern[str] | None:
    lex = lexicon(lang)
    words = {w.lower() for w in lex.company.get("links", ())} | set(
        lex.extra.get("investor_links") or ()
    )
    words.discard("d'")
    if not words:
        return None
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?i:{body}) (?=[A-ZÀ-Þ])|(?<!\w)d['’](?=[A-ZÀ-Þ])")


def _after_amount(
    lower: str, pos: int, money_spans: list[tuple[int, int]], hits: list[CueHit], lang: str
) -> bool:
    """True when an amount or a funding word ends right before `pos` ("$40m from")."""
    ends = [e for _, e in money_spans] + [
        h.end for h in hits if h.category in ("funding", "invest_noun")
    ]
    # "Die Runde wird vom Investor X angeführt": a passive auxiliary may come between.
    aux = _lang_words(lang, "passive_aux")
    return any(0 <= pos - e <= 2 or lower[e:pos].strip() in aux for e in ends)


def _investors_named(
    norm: str, lower: str, pos: int, lex: Lexicon, rules: NameRules
) -> list[tuple[str, int, int]]:
    """Capitalised names right after an investor phrase, joined by commas or "and"."""
    out: list[tuple[str, int, int]] = []
    joiners = _lang_words(lex.language, "joiners") | {","}
    lo, hi = _sentence_bounds(norm, pos)
    if title_case(norm, lo, hi, lex.language):
        return out
    links = _lang_words(lex.language, "links")
    for _ in range(4):
        while pos < len(norm) and norm[pos] == " ":
            pos += 1
        if lower.startswith("d'", pos):
            pos += 2  # "auprès d'Eurazeo"
        pos = _skip_company_noun(norm, lower, pos, lex, rules)[0]  # "vom Londoner Investor X"
        res = _read_forward(norm, pos, rules)
        if res is None or res[1] - pos > 1:
            break
        name = res[0]
        if rules.capitalised_nouns and german_noun(name, lex):
            break
        if (
            not any(c.isalpha() for c in name)  # "83North", "3M" are names; "2024" is not
            or name in rules.nonnames
            or _is_cue_word(name.split()[0], lex)
        ):
            break
        out.append(res)
        pos = res[2]
        m = re.match(r" *(,|[^\W\d]+)(?: +(?:de|d'|von|of))? *", lower[pos : pos + 20])
        if m is None or (m.group(1) not in joiners and m.group(1) not in links):
            break
        pos += m.end()
    return out


def _skip_company_noun(
    norm: str, lower: str, pos: int, lex: Lexicon, rules: NameRules
) -> tuple[int, bool]:
    """Move `pos` over a determiner and a company noun phrase before a name: "la
    start-up d'IA bordelaise Synthelia", "the French startup X", "das KI-Start-up X".

    Without a company noun only determiners are skipped, so "in new factories" stays.
    Returns the new position and whether a company noun was passed.
    """
    nouns = _company_nouns(lex)
    dets = rules.definite | _lang_words(lex.language, "indefinite")
    links = _lang_words(lex.language, "links")
    cur, best, seen_noun = pos, pos, False
    for _ in range(6):
        m = _WORD.match(norm, cur)
        if m is None:
            break
        word, low = m.group(1), lower[m.start(1) : m.end(1)]
        core = low.split("'", 1)[1] if "'" in low[:3] and len(low) > 2 else low
        if _is_noun(low, nouns) or (rules.capitalised_nouns and _AGENT_COMPOUND.search(low)):
            seen_noun = True
        elif (
            low in dets
            or (core in dets and core != low)
            or (
                seen_noun
                and (low in links or word in ("IA", "KI", "AI") or core in ("ia", "ki", "ai"))
            )
        ):
            pass
        elif seen_noun and rules.adjectives_after_nouns and word.isalpha() and word.islower():
            pass  # "la start-up lyonnaise X"
        elif seen_noun and word.endswith("-based"):
            pass
        elif not seen_noun and _noun_ahead(norm, lower, m.end(1), nouns, rules.capitalised_nouns):
            pass  # "das Münchner KI-Start-up X", "the Korean AI chip startup X"
        elif (
            not seen_noun
            and rules.adjectives_after_nouns
            and lower[max(0, m.start(1) - 4) : m.start(1)].rstrip().rsplit(" ", 1)[-1] in dets
            and word.islower()
            and word.endswith(DEMONYM_ENDINGS)
            and norm[m.end(1) + 1 : m.end(1) + 2].isupper()
        ):
            seen_noun = True  # "en la española Kairos": a demonym standing for the company
        else:
            break
        cur = m.end(1)
        if seen_noun or low in dets:
            best = cur
    return best, seen_noun


#: A German compound naming a doer ("KI-Optimierer", "Daten-Vermarkter"): a company noun.
_AGENT_COMPOUND = re.compile(r"-[a-zäöüß]{3,}(?:er|ierer)$")


def _is_noun(low: str, nouns: frozenset[str]) -> bool:
    """A company noun, alone, elided ("l'éditeur") or ending a compound ("ki-start-up")."""
    core = low.split("'", 1)[1] if "'" in low[:3] and len(low) > 2 else low
    return core in nouns or ("-" in low and low.endswith(_hyphen_suffixes(nouns)))


@cache
def _hyphen_suffixes(nouns: frozenset[str]) -> tuple[str, ...]:
    # "*-ki" in a lexicon is a compound ending of its own ("Legal-KI", "Medizin-KI").
    return tuple("-" + n for n in nouns if len(n) > 3) + tuple(
        n for n in nouns if n.startswith("-") and len(n) > 2
    )


@cache
def _long_nouns(nouns: frozenset[str]) -> tuple[str, ...]:
    return tuple(n for n in nouns if len(n) > 4)


def _noun_ahead(norm: str, lower: str, pos: int, nouns: frozenset[str], capitalised: bool) -> bool:
    """A company noun within the next three words, with no punctuation in between; in a
    language that does not capitalise nouns, a lower-case one ("Calder Bank" is a name)."""
    cur = pos
    for _ in range(3):
        if norm[cur : cur + 1] != " ":
            return False
        m = _WORD.match(norm, cur)
        if m is None or m.start(1) != cur + 1:
            return False
        low = lower[m.start(1) : m.end(1)]
        if _is_noun(low, nouns) or (capitalised and _AGENT_COMPOUND.search(low)):
            return capitalised or not m.group(1)[:1].isupper()
        cur = m.end(1)
    return False


def _word_positions(text: str, word: str) -> list[int]:
    """Start offsets of `word` standing as a whole word in `text`."""
    out: list[int] = []
    n, k = len(text), len(word)
    i = text.find(word)
    while i >= 0:
        if (i == 0 or not text[i - 1].isalnum()) and (i + k == n or not text[i + k].isalnum()):
            out.append(i)
        i = text.find(word, i + k)
    return out


def _at_clause_start(norm: str, pos: int, rules: NameRules) -> bool:
    """True when only spaces, quotes or an article separate `pos` from a sentence start."""
    lo = max(0, pos - 12)
    head = norm[lo:pos]
    words = head.rsplit(None, 1)
    if len(words) == 2 and words[1].lower() in rules.definite:
        head = words[0] + " "
    elif len(words) == 1 and words[0].lower() in rules.definite and lo == 0:
        head = ""
    head = head.rstrip(" \"'«„“")
    if not head:
        return lo == 0 or norm[lo - 1] in ".!?:;\n"
    return head[-1] in ".!?:;\n"


_SENT_END = re.compile(r"[.!?\n](?:\s|$)")


def _sentence_end(text: str, pos: int) -> int:
    m = _SENT_END.search(text, pos)
    return m.start() if m else len(text)


def _company_nouns(lex: Lexicon) -> frozenset[str]:
    """Single-word company nouns of the lexicon ("maker", "startup", "owner")."""
    return _company_nouns_of(lex.language)


@cache
def _company_nouns_of(lang: str) -> frozenset[str]:
    lex = lexicon(lang)
    words = [*lex.company.get("before", ()), *lex.cues.get("anaphor", ())]
    return frozenset(w.strip("*").lower() for w in words if " " not in w.strip())
