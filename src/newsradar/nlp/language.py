"""Language identification: a fast function-word vote, then py3langid when unsure.

py3langid (restricted to the languages newsradar knows) walks the text byte by byte
in Python, about 6,000 short articles/s on one core: too slow to run on every article
within the analysis budget. Most news texts carry enough function words ("the",
"des", "der", "los") to be decided by counting them, which costs a few microseconds;
py3langid only sees texts where that vote is weak, and then only their first
`LANGID_MAX_CHARS` characters. The function words come from the lexicon files, so a
new language brings its own.
"""

from __future__ import annotations

from functools import cache

from newsradar.nlp.lexicon import available_languages, own_cue_words, own_stopwords

#: Languages py3langid may answer (lexicon languages plus close neighbours).
LANGID_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "nl", "pt")
#: py3langid reads at most this many characters.
LANGID_MAX_CHARS = 400
#: The vote reads at most this many characters.
VOTE_MAX_CHARS = 300
#: The function-word vote decides alone with at least this many hits ...
MIN_VOTES = 3
#: ... and this lead (share of all votes) over the runner-up.
MIN_MARGIN = 0.5


_PUNCT = '.,;:!?"()[]«»“”„…-–—/'
_NO_HINT = frozenset({"und", "mul", "zxx", "mis"})
#: Weight of a lexicon cue word ("licenciements") against a function word ("les").
CUE_WEIGHT = 0.5


@cache
def _stopword_table() -> dict[str, tuple[tuple[str, float], ...]]:
    """Word -> the languages that use it, with the weight of its vote for each.

    Function words vote with weight 1, single-word cues of the lexicon with
    CUE_WEIGHT; a word shared by n languages gives each 1/n of its weight.
    """
    table: dict[str, dict[str, float]] = {}
    for lang in available_languages():
        for word in own_cue_words(lang):
            table.setdefault(word, {})[lang] = CUE_WEIGHT
        for word in own_stopwords(lang):
            table.setdefault(word, {})[lang] = 1.0
    return {
        w: tuple((lang, weight / len(ls)) for lang, weight in ls.items()) for w, ls in table.items()
    }


@cache
def _identifier() -> object | None:
    """py3langid restricted to LANGID_LANGUAGES, loaded once per process."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:  # pragma: no cover - py3langid is a dependency
        return None
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGID_LANGUAGES))
    return ident


def _vote(text: str) -> tuple[str | None, float, int]:
    """Function-word vote: (best language, its share of votes, number of votes)."""
    table = _stopword_table()
    # str.split is ~4x faster than a Unicode word regex; only the commonest punctuation
    # is blanked out first (a word glued to a quote or bracket simply casts no vote).
    low = text.lower().replace("'", " ").replace(",", " ").replace(".", " ")
    # map/filter look the words up at C level; only the words that vote reach Python.
    voting = list(filter(None, map(table.get, low.split())))
    if not voting:
        return None, 0.0, 0
    # Sums in token order and languages in order of their first vote, as ties rank so.
    counts: dict[str, float] = {}
    get = counts.get
    for votes in voting:
        for lang, weight in votes:
            counts[lang] = get(lang, 0.0) + weight
    # Best and runner-up in one pass; on a tie the language that voted first wins.
    best, best_n, second_n = "", -1.0, 0.0
    for lang, n in counts.items():
        if n > best_n:
            if best:
                second_n = best_n
            best, best_n = lang, n
        elif n > second_n:
            second_n = n
    margin = (best_n - second_n) / max(best_n + second_n, 1e-9)
    return best, margin, len(voting)


def detect_language(text: str, hint: str | None = None) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1) of `text`; `hint` wins when detection is unsure.

    Never raises; empty or featureless text gives the hint (or "en") with score 0.
    """
    # "en-US", "fr_FR" -> "en", "fr"; "und"/"mul"/"zxx" (BCP 47 for unknown) -> no hint.
    hint = hint.strip().lower()[:2] if hint and hint.strip().lower()[:3] not in _NO_HINT else None
    sample = text[:2000]
    best, margin, votes = _vote(sample[:VOTE_MAX_CHARS])
    if best is not None and (
        (votes >= MIN_VOTES and margin >= MIN_MARGIN)
        or (votes >= 8 and margin >= 0.25)
        or (votes >= 2 and margin >= 0.9)
    ):
        if hint and hint != best and votes < 2 * MIN_VOTES and margin < 0.8:
            return hint, 0.5
        return best, min(0.99, 0.6 + 0.4 * margin)
    ident = _identifier()
    if ident is not None and sample.strip():
        try:
            lang, score = ident.classify(sample[:LANGID_MAX_CHARS])  # type: ignore[attr-defined]
        except Exception:  # pragma: no cover - defensive: never raise on odd input
            lang, score = "und", 0.0
        score = float(score)
        if hint and (score < 0.8 or lang == "und"):
            return hint, score
        if best is not None and margin >= 0.9 and (score < 0.6 or lang == "und"):
            return best, 0.5  # one clear function word beats an unsure character model
        if lang != "und":
            return str(lang), score
    if hint:
        return hint, 0.0
    return (best or "en"), 0.0
