"""Money amounts, headcounts and percentages, read the way each language writes them.

The grammar here is generic; every word lives in data/numbers/<lang>.yaml (number words,
scale words, separators, currency words, worker nouns, ...) and data/numbers/common.yaml
(currency signs and ISO codes shared by all languages). Adding a language is adding a file.

How a text is read:

1. The text is lower-cased (same offsets) and cut into *number tokens*: digits with the
   language's separators plus any scale words ("2,5 Milliarden", "US$10.000 millones",
   "$14.8B", "14 mil") or runs of number words ("diez mil millones", "zehntausend",
   "half a billion"). Tokens are cached per text, so the three finders share the work.
2. Each finder looks right before and after a token with small anchored regexes: a
   currency sign, code or word makes money; a worker noun within a few words makes a
   headcount; a percent sign or word makes a percentage, and a workforce noun after it
   makes a headcount given as a percentage of staff.

Also read: ranges ("$10-15 billion", "10 à 15 milliards": the first number takes the
scale and currency), ratios ("1 in 10 jobs") and shares in words ("a third of its
workforce", "jede sechste Stelle") as percentages of staff, numbers right after a job-cut
verb ("Amazon to cut 18,000"), and amounts written without currency ("385 millions levés")
that borrow the currency of the nearest explicit amount of the same text.

All regexes are compiled once per process (on first use of a language). A text without
a digit and without a number word costs a few C-level regex scans (about 10 us).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from newsradar.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"
NUMBERS_DIR = DATA_DIR / "numbers"
RATES_PATH = DATA_DIR / "rates.yaml"
COMMON_FILE = "common.yaml"

_SPACES = " \u00a0\u202f\u2009"  # space, no-break space, narrow no-break space, thin space
_SP = f"[{_SPACES}]"
_LETTER = r"[^\W\d_]"
_END = rf"(?!{_LETTER})"  # no letter follows: the word ends here
_YEAR_MIN, _YEAR_MAX = 1900, 2099
_DIGITS_AND_MARKS = frozenset("0123456789.,")
_START = attrgetter("start")
_SP_RUN = re.compile(f"{_SP}+")
_DIGIT_AHEAD = re.compile(f"{_SP}?[0-9]")
# What may stand before a number word. Scans for words run on a copy of the text where
# these are spaces: a pattern that starts with one literal space lets `re` skip ahead fast.
_BEFORE_WORD = "\n\t\u00a0\u202f(\"“«'‘/"


@dataclass(frozen=True, slots=True)
class MoneyMatch:
    """An amount of money: value in `currency` units, and in USD when the rate is known."""

    value: float
    currency: str
    value_usd: float | None
    surface: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class HeadcountMatch:
    """A number of workers ("10,000 jobs") or a share of the workforce ("5% of staff")."""

    value: int | None
    percent: float | None
    surface: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PercentMatch:
    """A percentage ("15%", "13 %", "5 Prozent", "el 5 por ciento")."""

    value: float
    surface: str
    start: int
    end: int


# --------------------------------------------------------------------------- rates


def _load_rates() -> tuple[str, dict[str, float]]:
    """Read rates.yaml: the valid-for date and USD per unit of each currency."""
    path = str(RATES_PATH)
    try:
        data = yaml.safe_load(RATES_PATH.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, None, f"cannot read currency rates: {exc}") from exc
    if not isinstance(data, dict) or "valid_for" not in data or "usd_per_unit" not in data:
        raise ConfigError(path, None, "expected keys 'valid_for' and 'usd_per_unit'")
    rates: dict[str, float] = {}
    for code, rate in dict(data["usd_per_unit"]).items():
        if not isinstance(rate, int | float) or rate <= 0:
            raise ConfigError(
                path, f"usd_per_unit.{code}", f"expected a positive number, got {rate!r}"
            )
        rates[str(code).upper()] = float(rate)
    rates["USD"] = 1.0
    return str(data["valid_for"]), rates


RATES_DATE, _RATES = _load_rates()


def to_usd(value: float, currency: str) -> float | None:
    """`value` units of `currency` (ISO 4217) in USD, or None for an unknown currency."""
    rate = _RATES.get(currency.upper())
    return None if rate is None else value * rate


# --------------------------------------------------------------------------- grammar


def _trie_regex(entries: Mapping[str, str]) -> str:
    """One regex for many literal words (word -> regex tail run after it), prefix-factored.

    A trie keeps alternations short, and every branch starts with a literal character, so
    `re` can skip quickly to the positions where one of the words can start.
    """
    root: dict[str, Any] = {}
    for word, tail in entries.items():
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = tail

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:  # the word may end here; longer words are tried first
            alts.append(f"(?:{node['']})" if node[""] else "")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    if not root:
        return "(?!)"
    return build(root)


def _phrase(word: str) -> str:
    """Lower-case a phrase and normalise its apostrophe (matched as ' or ’)."""
    return word.lower().replace("’", "'")


@dataclass(frozen=True, slots=True)
class _Grammar:
    """The compiled grammar of one language."""

    lang: str
    kinds: dict[str, tuple[str, float]]  # word -> (kind, value); kinds: num art frac scale join
    suffixes: dict[str, float]  # letters glued to digits: "$200m", "10k"
    group_chars: frozenset[str]
    digits_re: re.Pattern[str]
    words_re: re.Pattern[str] | None
    split_re: re.Pattern[str]
    currencies: dict[str, str]  # lower-case sign/word/code -> ISO 4217
    iso_codes: frozenset[str]
    prefix_re: re.Pattern[str]
    prefix_ends: frozenset[str]  # last characters of the signs written before amounts
    suffix_re: re.Pattern[str]
    follow_re: re.Pattern[str]
    count_re: re.Pattern[str]
    partitive_re: re.Pattern[str]
    ratio_re: re.Pattern[str]
    cue_re: re.Pattern[str]
    cue_follow_re: re.Pattern[str]
    verbs_after_re: re.Pattern[str]
    range_re: re.Pattern[str]
    year_marker_re: re.Pattern[str]
    percent_re: re.Pattern[str]
    workforce_re: re.Pattern[str]
    workforce_before_re: re.Pattern[str]  # "réduit ses effectifs de" before "10 %"
    shares: dict[str, float]  # "a third" -> 33.3
    share_re: re.Pattern[str] | None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), None, f"cannot read number grammar: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "expected a mapping at the top level")
    return data


@cache
def available_languages() -> tuple[str, ...]:
    """ISO 639-1 codes that have a number grammar file, sorted."""
    names = (p.name.removesuffix(".yaml") for p in NUMBERS_DIR.glob("*.yaml"))
    return tuple(sorted(n for n in names if n != COMMON_FILE.removesuffix(".yaml")))


def _num_map(data: dict[str, Any], key: str, path: Path) -> dict[str, float]:
    raw = data.get(key) or {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), key, "expected a mapping of word -> number")
    out: dict[str, float] = {}
    for word, value in raw.items():
        if not isinstance(value, int | float):
            raise ConfigError(str(path), f"{key}.{word}", f"expected a number, got {value!r}")
        out[_phrase(str(word))] = float(value)
    return out


def _str_list(data: dict[str, Any], key: str, path: Path) -> list[str]:
    raw = data.get(key) or []
    if not isinstance(raw, list):
        raise ConfigError(str(path), key, "expected a list of words")
    return [_phrase(str(w)) for w in raw]


def _str_map(data: dict[str, Any], key: str, path: Path) -> dict[str, str]:
    raw = data.get(key) or {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), key, "expected a mapping of word -> ISO code")
    return {_phrase(str(k)): str(v).upper() for k, v in raw.items()}


def _phrase_regex(phrases: Iterable[str], tail: str = "") -> str:
    """Alternation of phrases (longest first) tolerant of space kinds and apostrophes."""
    alts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        esc = re.escape(p)
        esc = esc.replace(r"\ ", f"{_SP}+").replace("'", "['’]")
        alts.append(esc)
    if not alts:
        return "(?!)"
    return "(?:" + "|".join(alts) + ")" + tail


# The keys of a language file; data/numbers/README.md says what each one holds.
LANGUAGE_KEYS = frozenset(
    {
        "language", "separators", "number_words", "articles", "fractions", "scales",
        "scale_abbreviations", "scale_suffixes", "standalone_scales", "joiners",
        "compound_numbers", "currencies", "currency_joiners", "money_followers",
        "worker_nouns", "compound_nouns", "workforce_nouns", "workforce_shares",
        "count_cues", "count_qualifiers", "count_followers", "count_verbs_after",
        "percent_words", "partitives", "ratio_words", "range_words", "gap_stopwords",
        "year_markers", "percent_links", "default_currency",
    }
)  # fmt: skip


@cache
def _grammar(lang: str) -> _Grammar:
    """Compile the grammar of `lang` (once per process)."""
    path = NUMBERS_DIR / f"{lang}.yaml"
    data = _read_yaml(path)
    unknown = sorted(set(data) - LANGUAGE_KEYS)
    if unknown:
        raise ConfigError(str(path), unknown[0], "unknown key (a typo?)")
    if data.get("language") != lang:
        raise ConfigError(str(path), "language", f"expected {lang!r}")
    common_path = NUMBERS_DIR / COMMON_FILE
    common = _read_yaml(common_path)

    numbers = _num_map(data, "number_words", path)
    scales = _num_map(data, "scales", path)
    abbreviations = _num_map(data, "scale_abbreviations", path)
    suffixes = _num_map(data, "scale_suffixes", path)
    fractions = _num_map(data, "fractions", path)
    articles = _str_list(data, "articles", path)
    standalone = _str_list(data, "standalone_scales", path)
    joiners = _str_list(data, "joiners", path)
    compound = bool(data.get("compound_numbers", False))
    for word in standalone:
        if word not in scales:
            raise ConfigError(str(path), "standalone_scales", f"{word!r} is not in scales")

    kinds: dict[str, tuple[str, float]] = {}
    for w, v in numbers.items():
        kinds[w] = ("num", v)
    for w, v in {**abbreviations, **scales}.items():
        kinds[w] = ("scale", v)
    for w, v in fractions.items():
        kinds[w] = ("frac", v)
    for w in articles:
        kinds.setdefault(w, ("art", 1.0))
    for w in joiners:
        kinds[w] = ("join", 0.0)

    seps = data.get("separators") or {}
    group_chars = frozenset(str(c) for c in seps.get("group", [","]))
    group_class = "".join(sorted(group_chars | {".", ","}))
    group_class = re.escape(group_class).replace(" ", _SPACES)

    # Scale words after digits: "10 billion", "2,5 Mrd.", "$1.5bn", "500-Millionen", "14 mil".
    after_digits = {**scales, **abbreviations}
    word_scales = {w for w in after_digits if not w.endswith(".")}
    dotted = {w for w in after_digits if w.endswith(".")}
    scale_alt = _trie_regex({**{w: _END for w in word_scales}, **{w: "" for w in dotted}})
    suffix_alt = _trie_regex({w: _END for w in suffixes})
    sign_chars = "".join(
        sorted({str(s)[-1] for s in (common.get("signs") or {}) if not str(s)[-1].isalpha()})
    )
    scale_seq = (
        rf"(?:(?:[{_SPACES}\-]?{scale_alt})+"
        rf"|{suffix_alt}"
        rf"|{_SP}{suffix_alt}(?={_SP}?[{re.escape(sign_chars)}]))"
    )
    digits_re = re.compile(
        rf"[0-9](?:[0-9]{{0,2}}(?:[{group_class}][0-9]{{3}})+(?![0-9])(?:[.,][0-9]+)?"
        rf"|[0-9]*(?:[.,][0-9]+)?)(?![0-9])(?P<scale>{scale_seq})?"
    )

    # Runs of number words: "ten thousand", "diez mil millones", "zehntausend", "half a billion".
    big = {**dict.fromkeys(scales, ""), **dict.fromkeys(fractions, "")}
    big_alt = _trie_regex(big)
    glue = _phrase_regex(joiners) + "?" if compound else None
    art_tail = rf"(?=(?:[{_SPACES}\-]+)?{big_alt})" if compound else rf"(?=[{_SPACES}\-]+{big_alt})"
    start_entries: dict[str, str] = {w: "" for w in numbers}
    start_entries.update({w: "" for w in fractions})
    start_entries.update({w: "" for w in standalone})
    tok_entries: dict[str, str] = {w: "" for w in numbers}
    tok_entries.update({w: "" for w in fractions})
    tok_entries.update({w: "" for w in scales})
    for a in articles:
        start_entries.setdefault(a, art_tail)
        tok_entries.setdefault(a, art_tail)
    start_alt = _trie_regex(start_entries)
    tok_alt = _trie_regex(tok_entries)
    join_sep = rf"[{_SPACES}\-]+(?:{_phrase_regex(joiners)}[{_SPACES}\-]+)?"
    if compound:
        first = rf"{start_alt}(?:{glue}{tok_alt})*{_END}"
        later = rf"{tok_alt}(?:{glue}{tok_alt})*{_END}"
    else:
        first = rf"{start_alt}{_END}"
        later = rf"{tok_alt}{_END}"
    # Runs on the scan copy (see _BEFORE_WORD): the leading space marks the word start.
    words_re = re.compile(rf" {first}(?:{join_sep}{later})*") if start_entries else None
    all_words = sorted(kinds, key=len, reverse=True)
    split_re = re.compile("|".join(re.escape(w) for w in all_words) or "(?!)")

    # Currencies: signs and ISO codes from common.yaml, words from the language file.
    signs = _str_map(common, "signs", common_path)
    prefix_signs = _str_map(common, "prefix_signs", common_path)
    iso_raw = common.get("iso_codes") or []
    iso_codes = frozenset(str(c).upper() for c in iso_raw)
    iso_alias = {k.upper(): v for k, v in _str_map(common, "iso_aliases", common_path).items()}
    words_cur = _str_map(data, "currencies", path)
    currencies: dict[str, str] = {}
    currencies.update({c.lower(): c for c in iso_codes})
    currencies.update({k.lower(): v for k, v in iso_alias.items()})
    currencies.update(signs)
    currencies.update(prefix_signs)
    currencies.update(words_cur)
    iso_all = iso_codes | frozenset(iso_alias)
    before = list(signs) + list(prefix_signs) + [c.lower() for c in iso_all]
    prefix_re = re.compile(_phrase_regex(before) + rf"{_SP}?$")
    after = list(signs) + [c.lower() for c in iso_all] + list(words_cur)
    cur_join = _str_list(data, "currency_joiners", path)
    join_alts = [j for j in cur_join if j.endswith("'")]
    join_words = [j for j in cur_join if not j.endswith("'")]
    cur_join_re = ""
    if cur_join:
        parts = []
        if join_words:
            parts.append(_phrase_regex(join_words) + f"{_SP}+")
        if join_alts:
            parts.append(_phrase_regex(join_alts) + f"{_SP}*")
        cur_join_re = "(?:" + "|".join(parts) + ")?"
    suffix_re = re.compile(rf"{_SP}*-?{cur_join_re}(?P<cur>{_phrase_regex(after)}){_END}")
    followers = _str_list(data, "money_followers", path)
    follow_re = re.compile(rf"{_SP}*[;)]|{_SP}+{_phrase_regex(followers)}{_END}")

    # Headcounts: a number, up to four words, a worker noun.
    workers = _str_list(data, "worker_nouns", path)
    workforce = _str_list(data, "workforce_nouns", path)
    pct_words = _str_list(data, "percent_words", path)
    stop = set(_str_list(data, "gap_stopwords", path)) | set(pct_words)
    stop |= {w for w in words_cur if " " not in w}
    compound_nouns = bool(data.get("compound_nouns", False))
    noun_prefix = f"{_LETTER}*?" if compound_nouns else ""
    worker_alt = noun_prefix + _phrase_regex(workers) + _END
    gap_sep = rf"[{_SPACES}'’\-]+"
    stop_alt = _phrase_regex(stop) + _END
    count_re = re.compile(
        rf"(?P<gap>(?:{gap_sep}(?!{stop_alt}){_LETTER}+){{0,4}}?){gap_sep}(?P<noun>{worker_alt})"
    )
    partitives = _str_list(data, "partitives", path)
    # "200 of its 1,400", "300 of Acme Foods' 1,000": up to two words, maybe possessive.
    partitive_re = re.compile(
        rf"{_SP}+{_phrase_regex(partitives)}(?:[{_SPACES}'’]+{_LETTER}+){{0,2}}(?:['’]s?)?{_SP}+"
    )
    # A number without a noun after a job-cut verb: "Amazon to cut 18,000", "will 3000 streichen".
    cues = _str_list(data, "count_cues", path)
    qualifiers = _str_list(data, "count_qualifiers", path)
    cue_re = re.compile(  # run on the scan copy, where a space stands before every word
        rf" {_phrase_regex(cues)}(?:{_SP}+{_phrase_regex(qualifiers)})*{_SP}+$"
    )
    cue_followers = _str_list(data, "count_followers", path)
    cue_follow_re = re.compile(
        rf"{_SP}*(?:[.,;:!?)\]\"”»]|$)|{_SP}+{_phrase_regex(cue_followers)}{_END}"
    )
    verbs_after_re = re.compile(
        rf"{_SP}+{_phrase_regex(_str_list(data, 'count_verbs_after', path))}{_END}"
    )
    ratios = _str_list(data, "ratio_words", path)
    ratio_re = re.compile(rf"{_SP}+{_phrase_regex(ratios)}{_SP}+")
    ranges = _str_list(data, "range_words", path)
    range_re = re.compile(
        rf"{_SP}*(?:[-–]|{_SP}{_phrase_regex(ranges)}{_SP})"
        rf"{_SP}*(?:{_phrase_regex(list(signs) + list(prefix_signs))})?{_SP}?"
    )
    year_markers = _str_list(data, "year_markers", path)
    year_marker_re = re.compile(rf"(?<!{_LETTER}){_phrase_regex(year_markers)}{_SP}+$")

    # Percentages, and shares of the workforce after them.
    pct_signs = [str(s) for s in (common.get("percent_signs") or ["%"])]
    percent_re = re.compile(
        rf"{_SP}?(?:{_phrase_regex(pct_signs)}|{_phrase_regex(pct_words)}{_END})"
    )
    wf_alt = noun_prefix + _phrase_regex(set(workers) | set(workforce)) + _END
    # "5% of its workforce", "13 % de ses effectifs", "4% of its 12,000 employees".
    gap_word = rf"(?:{_LETTER}+|[0-9][0-9.,{_SPACES[1:]}]*[0-9]|[0-9])"
    workforce_re = re.compile(
        rf"(?:[{_SPACES}'’]+{_phrase_regex(partitives)}(?:{gap_sep}{gap_word}){{0,3}}?)?"
        rf"{gap_sep}(?P<noun>{wf_alt})"
    )
    # "reduce its workforce by 10%", "réduit ses effectifs de 10 %", "plantilla en un 10 %".
    links = _str_list(data, "percent_links", path)
    workforce_before_re = re.compile(
        rf"(?<!{_LETTER})(?:{wf_alt}){_SP}+{_phrase_regex(links)}{_SP}*$" if links else r"(?!x)x"
    )
    shares = _num_map(data, "workforce_shares", path)
    share_re = None
    if shares:
        share_alt = _trie_regex({w: "" for w in shares}).replace(r"\ ", f"{_SP}+")
        share_re = re.compile(rf" (?P<share>{share_alt}){_END}")
    return _Grammar(
        lang=lang,
        kinds=kinds,
        suffixes=suffixes,
        group_chars=group_chars,
        digits_re=digits_re,
        words_re=words_re,
        split_re=split_re,
        currencies=currencies,
        iso_codes=iso_all,
        prefix_re=prefix_re,
        prefix_ends=frozenset(b[-1] for b in before),
        suffix_re=suffix_re,
        follow_re=follow_re,
        count_re=count_re,
        partitive_re=partitive_re,
        ratio_re=ratio_re,
        cue_re=cue_re,
        cue_follow_re=cue_follow_re,
        verbs_after_re=verbs_after_re,
        range_re=range_re,
        year_marker_re=year_marker_re,
        percent_re=percent_re,
        workforce_re=workforce_re,
        workforce_before_re=workforce_before_re,
        shares=shares,
        share_re=share_re,
    )


# --------------------------------------------------------------------------- numbers


def _parse_digits(s: str, g: _Grammar) -> tuple[float, float] | None:
    """Read "10.000", "1,5", "10 000", "1,234.5" as the language writes them.

    Gives two readings: as an amount, and as a count. A single separator followed by
    exactly three digits groups thousands when the language groups with it (de "1.000",
    en "1,000"), else it is a decimal mark; a count is a whole number, so there it always
    groups ("10.000 employees" is never ten).
    """
    if s.isdigit():
        v = float(s)
        return v, v
    for ch in set(s) - _DIGITS_AND_MARKS:  # spaces and apostrophes that group digits
        if ch not in g.group_chars and not (ch in _SPACES and " " in g.group_chars):
            return None
        s = s.replace(ch, "")
    n_dot, n_comma = s.count("."), s.count(",")
    if not n_dot and not n_comma:
        v = float(s)
        return v, v
    if n_dot and n_comma:  # "1,234.56" / "1.234,56": the last mark is the decimal
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        if s.count(dec) != 1:
            return None
        int_part, frac = s.rsplit(dec, 1)
        v = float(int_part.replace("," if dec == "." else ".", "") + "." + frac)
        return v, v
    sep = "." if n_dot else ","
    parts = s.split(sep)
    if len(parts) > 2:  # "1.000.000"
        if all(len(p) == 3 for p in parts[1:]):
            v = float("".join(parts))
            return v, v
        return None
    int_part, frac = parts
    decimal = float(int_part + "." + frac)
    if len(frac) != 3:
        return decimal, decimal
    grouped = float(int_part + frac)
    return (grouped if sep in g.group_chars else decimal), grouped


def _combine(tokens: Iterable[tuple[str, float]], current: float = 0.0) -> float | None:
    """Value of a run of number words (optionally after a digit value in `current`).

    Additive below a hundred, multiplicative for scales: "diez mil millones" = 10 * 1000
    * 1e6; "two million five hundred thousand" = 2e6 + 500e3; "half a billion" = 0.5e9.
    """
    total = 0.0
    largest = 0.0
    article = False
    seen = current != 0.0
    for kind, value in tokens:
        if kind == "join":
            continue
        if kind == "art":
            if current == 0.0:
                current, article = 1.0, True
            continue
        seen = True
        if kind == "num":
            current += value
            article = False
        elif kind == "frac":
            if current == 0.0 and total > 0.0:  # "un milliard et demi"
                total += value * largest
            elif current == 0.0 or (article and current == 1.0):
                current = value
            else:
                current += value
            article = False
        elif kind == "scale":
            if value < 1000:  # hundred multiplies the group being built
                current = (current or 1.0) * value
            elif value > largest:
                total = (total + (current or (0.0 if total else 1.0))) * value
                largest, current = value, 0.0
            else:
                total += (current or 1.0) * value
                current = 0.0
            article = False
    if not seen:
        return None
    return total + current


class _Token(NamedTuple):
    """A number found in the text (offsets into the text)."""

    start: int
    end: int
    value: float  # as money would read it
    headcount: float  # as a headcount would read it (thousands separator when ambiguous)
    scale: float  # product of the scale words (1.0 without)
    plain: str  # the bare digits when written without separator or scale, else ""
    words: bool  # written in words
    article_only: bool  # "a", "un", "ein" alone
    ranged: bool = False  # took its scale from the next number ("$10-15 billion")
    pct_end: int = -1  # end of the percent sign or word right after it, -1 when none


def _scale_tokens(text: str, g: _Grammar) -> list[tuple[str, float]]:
    out = []
    for w in g.split_re.findall(text):
        kind, value = g.kinds[w]
        out.append((kind, value))
    return out


def _suffix_value(scale_text: str, g: _Grammar) -> list[tuple[str, float]]:
    """Scale tokens of the scale part after digits ("mil millones", "bn", " M")."""
    s = scale_text.strip(_SPACES + "-")
    if s in g.suffixes:
        return [("scale", g.suffixes[s])]
    if s in g.kinds:
        return [g.kinds[s]]
    return _scale_tokens(s, g)


def _left_ok(low: str, start: int) -> bool:
    """A number cannot continue a word, a code ("GPT-4") or a date/version ("12.05")."""
    if start == 0:
        return True
    prev = low[start - 1]
    if prev.isalnum() or prev == "_":
        return False
    if start >= 2 and prev in ".,:/" and low[start - 2].isdigit():
        return False
    return not (start >= 2 and prev == "-" and low[start - 2].isalpha())


def _right_ok(low: str, end: int) -> bool:
    """A number cannot run into letters ("4o", "10x") or another digit group ("12.05.2023")."""
    if end >= len(low):
        return True
    nxt = low[end]
    if nxt.isalpha():
        return False
    return not (nxt in ".,:/" and end + 1 < len(low) and low[end + 1].isdigit())


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


# NamedTuple instances built at C level (no Python __new__ frame); all fields given.
_new = tuple.__new__


class _Read(NamedTuple):
    """A text as the finders see it: lower-cased, a word-scan copy, and its number tokens."""

    low: str  # lower-cased, same offsets as the text
    scan: str  # " " + low with _BEFORE_WORD characters as spaces (offsets shift by one)
    tokens: tuple[_Token, ...]


def _scan_copy(low: str) -> str:
    scan = " " + low
    for ch in _BEFORE_WORD:
        if ch in scan:
            scan = scan.replace(ch, " ")
    return scan


def _tokenize(text: str, g: _Grammar) -> _Read:
    low = _lower(text)
    scan = _scan_copy(low)
    n_low = len(low)
    tokens: list[_Token] = []
    for m in g.digits_re.finditer(low):
        start = m.start()
        scale_text = m.group("scale") or ""
        num_end = m.end() - len(scale_text)
        # A space before or after passes the _left_ok/_right_ok tests: no call needed.
        if (
            start
            and low[start - 1] != " "
            and not _left_ok(low, start)
            and not _glued_code(text, start, g)
        ):
            continue
        if (
            not scale_text
            and num_end < n_low
            and low[num_end] != " "
            and not _right_ok(low, num_end)
        ):
            continue
        digits = low[start:num_end]
        if digits.isdigit():  # the common case: _parse_digits would read it so
            value = count = float(digits)
        else:
            readings = _parse_digits(digits, g)
            if readings is None:
                continue
            value, count = readings
        scale = 1.0
        if scale_text:
            parts = _suffix_value(scale_text, g)
            scaled = _combine(parts, value)
            scaled_count = scaled if count == value else _combine(parts, count)
            if scaled is None or scaled_count is None or value == 0:
                continue
            scale = scaled / value
            value, count = scaled, float(scaled_count)
        plain = digits if digits.isdigit() else ""
        tokens.append(
            _new(_Token, (start, m.end(), value, count, scale, plain, False, False, False, -1))
        )
    if g.words_re is not None:
        taken = [(t.start, t.end) for t in tokens]
        for m in g.words_re.finditer(scan):  # offsets shift by one: the leading space
            start, end = m.start(), m.end() - 1
            if any(s < end and start < e for s, e in taken):
                continue
            parts = _scale_tokens(low[start:end], g)
            combined = _combine(parts)
            art_only = combined is None
            if art_only and not all(k in ("art", "join") for k, _ in parts):
                continue
            value = 1.0 if combined is None else combined
            scale = 1.0
            for kind, v in parts:
                if kind == "scale":
                    scale *= v
            tokens.append(
                _new(_Token, (start, end, value, value, scale, "", True, art_only, False, -1))
            )
        if len(tokens) > len(taken):
            tokens.sort(key=lambda t: t.start)
    percent = False
    pct_match = g.percent_re.match
    for i, tok in enumerate(tokens):
        pm = pct_match(low, tok.end)
        if pm is not None:
            tokens[i] = _new(_Token, (*tok[:-1], pm.end()))
            percent = True
    if percent and len(tokens) > 1:  # "3 pour cent", "5 por ciento": no numbers there
        tokens = _drop_inside_percent(tokens)
    for i in range(len(tokens) - 1):  # "$10-15 billion", "10 à 15 milliards": share the scale
        tok, nxt = tokens[i], tokens[i + 1]
        if (
            tok.scale == 1.0 < nxt.scale
            and not tok.words
            and tok.value < nxt.value / nxt.scale
            and g.range_re.fullmatch(low, tok.end, nxt.start)
        ):
            tokens[i] = tok._replace(
                value=tok.value * nxt.scale,
                headcount=tok.headcount * nxt.scale,
                scale=nxt.scale,
                plain="",
                ranged=True,
            )
    return _new(_Read, (low, scan, tuple(tokens)))


def _glued_code(text: str, start: int, g: _Grammar) -> bool:
    """Whether the digits follow an ISO code written in capitals without a space ("USD10bn")."""
    code = text[max(0, start - 3) : start]
    if len(code) != 3 or code not in g.iso_codes:
        return False
    return start == 3 or not text[start - 4].isalpha()


def _drop_inside_percent(tokens: list[_Token]) -> list[_Token]:
    """Drop tokens that start inside the percent phrase of the token before them."""
    kept: list[_Token] = []
    until = -1
    for tok in tokens:
        if tok.start < until:
            continue
        kept.append(tok)
        until = tok.pct_end
    return kept


@lru_cache(maxsize=4)
def _tokens(text: str, lang: str) -> _Read:
    """Tokens of `text` in `lang`, cached so find_money/headcounts/percentages share them.

    Only the last few texts are kept: sharing within one article is the point, and a
    larger cache would make a benchmark that repeats texts look faster than real use.
    """
    return _tokenize(text, _grammar(lang))


def _languages_for(lang: str | None) -> tuple[str, ...]:
    """The grammar of `lang`, or all of them (English first) for an unknown language."""
    code = (lang or "").lower()[:2]
    langs = available_languages()
    if code in langs:
        return (code,)
    return _english_first(langs)


@lru_cache(maxsize=4)  # keyed by the tuple of languages: right even after a cache_clear
def _english_first(langs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(langs, key=lambda c: (c != "en", c)))


def parse_number(s: str, lang: str) -> float | None:
    """Read one number written in `lang`: "10 000", "1,5", "2,5 Milliarden", "diez mil".

    The whole string must be a number (optionally with scale words); anything else gives
    None. Ambiguous separators are read as the language writes them ("1.000" is 1000 in
    German, "1.5" is 1.5 in English).
    """
    text = s.strip()
    for code in _languages_for(lang):
        g = _grammar(code)
        low = _lower(text)
        m = g.digits_re.fullmatch(low)
        if m is not None:
            scale_text = m.group("scale") or ""
            digits = low[: m.end() - len(scale_text)]
            readings = _parse_digits(digits, g)
            if readings is not None and scale_text:
                return _combine(_suffix_value(scale_text, g), readings[0])
            if readings is not None:
                return readings[0]
        if g.words_re is not None and g.words_re.fullmatch(_scan_copy(low)):
            value = _combine(_scale_tokens(low, g))
            if value is not None:
                return value
    return None


# --------------------------------------------------------------------------- money


def _currency_before(text: str, low: str, tok: _Token, g: _Grammar) -> tuple[str, int] | None:
    """ISO code and start of a sign or code written before the number ("US$", "EUR ")."""
    at = tok.start - 1
    if at >= 0 and low[at] in _SPACES:
        at -= 1
    if at < 0:
        return None
    prev = low[at]
    if prev.isalpha():  # only a code in capitals ("USD 40") or "Rs" can end with a letter
        if not text[at].isupper() and prev != "s":
            return None
    elif prev not in g.prefix_ends:
        return None
    pos = max(0, tok.start - 8)
    while (m := g.prefix_re.search(low, pos, tok.start)) is not None:
        pos = m.start() + 1
        cur = m.group().strip(_SPACES)
        if cur[0].isalpha():
            if m.start() > 0 and low[m.start() - 1].isalpha():
                continue  # "plus$": try the shorter sign "$"
            up = cur.upper()
            if up in g.iso_codes and text[m.start() : m.start() + len(cur)] != up:
                continue
        code = g.currencies.get(_SP_RUN.sub(" ", cur).replace("’", "'"))
        if code is not None:
            return code, m.start()
    return None


def _currency_after(text: str, low: str, tok: _Token, g: _Grammar) -> tuple[str, int] | None:
    """ISO code and end of a currency word, sign or code written after the number."""
    m = g.suffix_re.match(low, tok.end)
    if m is None:
        return None
    cur = m.group("cur")
    if tok.words and low[tok.end : m.start("cur")].endswith("-"):
        return None  # "a billion-dollar company" is a size, not an amount
    key = _SP_RUN.sub(" ", cur).replace("’", "'")
    up = key.upper()
    if up in g.iso_codes and text[m.start("cur") : m.end("cur")] != up:
        return None
    if not cur[-1].isalpha() and _DIGIT_AHEAD.match(low, m.end()):
        return None  # "10 $20": the sign belongs to the next amount
    code = g.currencies.get(key)
    if code is None:
        return None
    return code, m.end()


def _money_in(text: str, lang: str) -> list[MoneyMatch]:
    g = _grammar(lang)
    low, _, tokens = _tokens(text, lang)
    if not tokens:  # no number, no money
        return []
    spans: list[tuple[str, int, int] | None] = []
    for tok in tokens:
        span: tuple[str, int, int] | None = None
        if not tok.article_only:
            before = _currency_before(text, low, tok, g) if not tok.words else None
            after = _currency_after(text, low, tok, g)
            if before is not None:
                end = after[1] if after is not None and after[0] == before[0] else tok.end
                span = (before[0], before[1], end)
            elif after is not None:
                span = (after[0], tok.start, after[1])
        spans.append(span)
    for i, tok in enumerate(tokens[:-1]):  # a range has one currency: "10 à 15 milliards de $"
        if tok.ranged and (spans[i] is None) != (spans[i + 1] is None):
            first, second = spans[i], spans[i + 1]
            if first is not None:
                spans[i + 1] = (first[0], tokens[i + 1].start, tokens[i + 1].end)
            elif second is not None:
                spans[i] = (second[0], tok.start, tok.end)
    found: list[MoneyMatch] = []
    bare: list[_Token] = []
    last_end = 0
    for tok, span in zip(tokens, spans, strict=True):
        if tok.start < last_end or tok.article_only:
            continue
        if span is None:
            if tok.scale >= 1e6 and g.follow_re.match(low, tok.end):
                bare.append(tok)
            continue
        code, start, end = span
        if tok.value <= 0:
            continue
        found.append(_money(tok.value, code, text, start, end))
        last_end = end
    for tok in bare:  # "385 millions levés" beside "385 millions $": borrow the currency
        if not found:
            break
        near = min(found, key=lambda mm: abs(mm.start - tok.start))
        found.append(_money(tok.value, near.currency, text, tok.start, tok.end))
    if bare:  # otherwise already in text order (each amount starts after the last)
        found.sort(key=_START)
    return found


def _money(value: float, code: str, text: str, start: int, end: int) -> MoneyMatch:
    return MoneyMatch(value, code, to_usd(value, code), text[start:end], start, end)


# --------------------------------------------------------------------------- counts


_YEAR_FIRST, _YEAR_LAST = str(_YEAR_MIN), str(_YEAR_MAX)


def _is_year(tok: _Token) -> bool:
    # `plain` holds ASCII digits only: on four of them text order is number order.
    plain = tok.plain
    return len(plain) == 4 and _YEAR_FIRST <= plain <= _YEAR_LAST


def _may_count(tok: _Token) -> bool:
    """Whether the number alone could count people: a whole number, not "0800", not "2023"."""
    if tok.article_only or tok.pct_end >= 0:
        return False
    if tok.headcount < 1 or tok.headcount != int(tok.headcount):
        return False
    if tok.words and tok.headcount < 2:
        return False
    if tok.plain.startswith("0"):
        return False
    # "the 2023 layoffs" is a year; round counts like 2000 stay possible
    return not (_is_year(tok) and not tok.plain.endswith("00"))


def _count_ok(text: str, low: str, tok: _Token, prev: _Token | None, g: _Grammar) -> bool:
    """Whether the token can be a number of people (not a year, money or phone number)."""
    if not _may_count(tok):
        return False
    if _is_year(tok) and g.year_marker_re.search(low, max(0, tok.start - 16), tok.start):
        return False
    if prev is not None and prev.end >= tok.start - 1 and prev.plain and not _is_year(prev):
        return False  # "0800 123 456": a phone-like run of digit groups
    return not (not tok.words and _currency_before(text, low, tok, g) is not None)


def _cued_count(text: str, read: _Read, tok: _Token, prev: _Token | None, g: _Grammar) -> bool:
    """A number with no noun that a job-cut verb makes a headcount ("to cut 18,000.")."""
    if tok.scale >= 1e6:
        return False  # "cut 500 million in costs" is money, not people
    low = read.low
    cued = g.verbs_after_re.match(low, tok.end) is not None or (
        g.cue_follow_re.match(low, tok.end) is not None
        and g.cue_re.search(read.scan, max(0, tok.start - 60), tok.start + 1) is not None
    )
    return cued and _count_ok(text, low, tok, prev, g) and g.suffix_re.match(low, tok.end) is None


def _headcounts_in(text: str, lang: str) -> list[HeadcountMatch]:
    g = _grammar(lang)
    read = _tokens(text, lang)
    low, tokens = read.low, read.tokens
    found: list[HeadcountMatch] = []
    shares = _shares_in(text, low, read.scan, g)
    taken_until = 0
    prev: _Token | None = None
    for i, tok in enumerate(tokens):
        prev_tok = prev
        prev = tok
        if tok.start < taken_until or (
            shares and any(sh.start <= tok.start < sh.end for sh in shares)
        ):
            continue
        if tok.pct_end >= 0:
            wf = g.workforce_re.match(low, tok.pct_end)
            if wf is not None:
                end = wf.end()
                found.append(HeadcountMatch(None, tok.value, text[tok.start : end], tok.start, end))
                taken_until = end
            else:
                before = g.workforce_before_re.search(low, max(0, tok.start - 40), tok.start)
                if before is not None:
                    start, end = before.start(), tok.pct_end
                    found.append(HeadcountMatch(None, tok.value, text[start:end], start, end))
                    taken_until = end
            continue
        if not _may_count(tok):
            continue
        m = g.count_re.match(low, tok.end)
        if m is None:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            linked = nxt is not None and (
                g.ratio_re.fullmatch(low, tok.end, nxt.start) is not None
                or g.partitive_re.fullmatch(low, tok.end, nxt.start) is not None
            )  # "cut 1 in 10 jobs": the pair is read at the next number
            if not linked and _cued_count(text, read, tok, prev_tok, g):
                value = int(tok.headcount)
                found.append(
                    HeadcountMatch(value, None, text[tok.start : tok.end], tok.start, tok.end)
                )
                taken_until = tok.end
            continue
        if not _count_ok(text, low, tok, prev_tok, g):
            continue
        if _is_year(tok) and m.group("gap"):
            continue
        if (
            prev_tok is not None
            and prev_tok.start >= taken_until
            and not prev_tok.words
            and 0 < prev_tok.headcount < tok.headcount
            and g.ratio_re.fullmatch(low, prev_tok.end, tok.start)
        ):  # "1 in 10 jobs", "1 de cada 10 empleados": a share of the workforce
            share = round(100.0 * prev_tok.headcount / tok.headcount, 2)
            end = m.end()
            found.append(
                HeadcountMatch(None, share, text[prev_tok.start : end], prev_tok.start, end)
            )
            taken_until = end
            continue
        start, value = tok.start, int(tok.headcount)
        # "2600 der 8000 Stellen", "200 of its 1,400 employees": the first number counts.
        if (
            i > 0
            and prev_tok is not None
            and prev_tok.start >= taken_until
            and prev_tok.pct_end < 0
            and g.partitive_re.fullmatch(low, prev_tok.end, tok.start)
            and _count_ok(text, low, prev_tok, tokens[i - 2] if i > 1 else None, g)
        ):
            start, value = prev_tok.start, int(prev_tok.headcount)
        end = m.end()
        found.append(HeadcountMatch(value, None, text[start:end], start, end))
        taken_until = end
    if shares:
        found = [h for h in found if not any(h.start < s.end and s.start < h.end for s in shares)]
        found = sorted([*found, *shares], key=lambda h: h.start)
    return found


def _shares_in(text: str, low: str, scan: str, g: _Grammar) -> list[HeadcountMatch]:
    """Shares of staff in words: "a third of its workforce", "jede sechste Stelle"."""
    found: list[HeadcountMatch] = []
    if g.share_re is None:
        return found
    for sm in g.share_re.finditer(scan):
        start, end = sm.start("share") - 1, sm.end("share") - 1
        wf = g.workforce_re.match(low, end)
        if wf is not None:
            key = _SP_RUN.sub(" ", low[start:end])
            found.append(
                HeadcountMatch(None, g.shares[key], text[start : wf.end()], start, wf.end())
            )
    return found


# --------------------------------------------------------------------------- percent


def _percentages_in(text: str, lang: str) -> list[PercentMatch]:
    return [
        PercentMatch(tok.value, text[tok.start : tok.pct_end], tok.start, tok.pct_end)
        for tok in _tokens(text, lang).tokens
        if tok.pct_end >= 0 and not tok.article_only
    ]


# --------------------------------------------------------------------------- public


def _merge(per_lang: list[list[Any]]) -> list[Any]:
    """Union of several languages' matches without overlaps (longer, then earlier wins)."""
    if len(per_lang) == 1:
        return per_lang[0]
    pool = [(m.start, -(m.end - m.start), rank, m) for rank, ms in enumerate(per_lang) for m in ms]
    pool.sort(key=lambda item: item[:3])
    kept: list[Any] = []
    for _, _, _, m in pool:
        if kept and m.start < kept[-1].end:
            if m.end - m.start > kept[-1].end - kept[-1].start:
                kept[-1] = m
            continue
        kept.append(m)
    return kept


def find_money(text: str, lang: str) -> list[MoneyMatch]:
    """Money amounts in `text` written in `lang`, in order ("$10 billion", "10 Mrd. Dollar")."""
    langs = _languages_for(lang)
    if len(langs) == 1:  # the common case: nothing to merge
        return _money_in(text, langs[0])
    return _merge([_money_in(text, code) for code in langs])


# The end of a clause, of the text, or of the headline ("EvenUp capta 135 millones\n").
_BARE_END = re.compile(r"\s*(?:[.,;:!?)\]\"”»]|$)|[ \t]*\n")


def find_bare_amounts(text: str, lang: str, currency: str | None = None) -> list[MoneyMatch]:
    """Sums with a scale word but no currency ("invierte 12 millones en ...", "con 5
    millones."), in `currency` (the one the text names elsewhere) or else the
    language's default currency (numbers/<lang>.yaml `default_currency`): what a
    reader assumes. A scaled number followed by a noun ("9,7 millions d'abonnés") is
    no sum.
    """
    out: list[MoneyMatch] = []
    for code in _languages_for(lang):
        currency = currency or _default_currency(code)
        if currency is None:
            continue
        g = _grammar(code)
        low, _, tokens = _tokens(text, code)
        for tok in tokens:
            if tok.article_only or tok.scale < 1e6 or tok.value <= 0 or tok.pct_end >= 0:
                continue
            if g.follow_re.match(low, tok.end) or _BARE_END.match(low, tok.end):
                out.append(_money(tok.value, currency, text, tok.start, tok.end))
        if out:
            break
    return out


@cache
def _default_currency(lang: str) -> str | None:
    path = NUMBERS_DIR / f"{lang}.yaml"
    if not path.is_file():
        return None
    value = _read_yaml(path).get("default_currency")
    return str(value) if value else None


def find_headcounts(text: str, lang: str) -> list[HeadcountMatch]:
    """Numbers of workers ("10,000 jobs", "10.000 Stellen") and shares of staff, in order."""
    langs = _languages_for(lang)
    if len(langs) == 1:  # the common case: nothing to merge
        return _headcounts_in(text, langs[0])
    return _merge([_headcounts_in(text, code) for code in langs])


def find_percentages(text: str, lang: str) -> list[PercentMatch]:
    """Percentages in `text` ("15%", "13 %", "5 Prozent", "cinco por ciento"), in order."""
    return _merge([_percentages_in(text, code) for code in _languages_for(lang)])
