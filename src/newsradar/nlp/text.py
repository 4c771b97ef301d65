"""Text helpers shared by the analysis: offset-preserving normalisation, sentences, clauses."""

from __future__ import annotations

import re

# Same-length replacements: curly apostrophes and odd spaces become plain ones, so the
# lexicon and gazetteer see one spelling while offsets stay those of the input text.
# (A chain of str.replace guarded by `in` is ~1000x faster than str.translate here.)
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("’", "'"),
    ("‘", "'"),
    ("ʼ", "'"),
    ("\u00a0", " "),
    ("\u202f", " "),
    ("\u2009", " "),
    ("\t", " "),
    ("\r", " "),
    ("\u2028", " "),
    ("\u2029", " "),
    ("‐", "-"),
    ("‑", "-"),
)


def normalise(text: str) -> str:
    """`text` with apostrophes, spaces and hyphens unified; same length and offsets."""
    for old, new in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return text


def lower_same_length(text: str) -> str:
    """Lower-case `text`, keeping offsets (characters whose lower case is longer stay)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(lc := c.lower()) != 1 else lc for c in text)


class PlainValue:
    """Base of the small value classes built on the hot path (spans, cue hits, mentions).

    Plain classes, not dataclasses: compiled (setup.py), a dataclass's generated
    `__init__` runs as interpreted Python, about 5x slower to build. A subclass names the
    fields it is compared and shown by in `_key`; values stay mutable, so unhashable.
    """

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key()!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]


class Span(PlainValue):
    """A sentence or clause: [start, end) in the analysed text."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end

    def _key(self) -> tuple[int, int]:
        return (self.start, self.end)


_SENT_CHAR = re.compile(r"[.!?…\n]")
_CLOSERS = frozenset("\"'»”)")
_OPENERS = frozenset("\"'«“(¿¡")


def split_sentences(text: str, abbreviations: frozenset[str]) -> list[Span]:
    """Sentence spans of `text` (the original, with its newline after the title).

    A sentence ends at a newline, or at [.!?] followed by a space and a capital (or the
    end of the text). A full stop after an abbreviation ("Corp.", "Mrd.") or a single
    letter ("J.") does not end a sentence. Candidates come from a one-class regex and
    are checked with plain string indexing (several times faster than one big regex).
    """
    spans: list[Span] = []
    start = 0
    n = len(text)
    skip_to = -1
    for m in _SENT_CHAR.finditer(text):
        i = m.start()
        if i < skip_to:
            continue
        if text[i] == "\n":
            end = i + 1
        else:
            j = i + 1
            while j < n and (text[j] in ".!?…" or text[j] in _CLOSERS):
                j += 1
            skip_to = j
            if j < n and not text[j].isspace():
                continue
            k = j
            while k < n and text[k].isspace() and text[k] != "\n":
                k += 1
            if k < n and text[k] != "\n":
                c = text[k]
                if c in _OPENERS and k + 1 < n:
                    c = text[k + 1]
                if not (c.isupper() or c.isdigit()):
                    continue
            if text[i] == ".":
                p = i
                lo = max(0, i - 30)
                while p > lo and ((ch := text[p - 1]).isalnum() or ch == "."):
                    p -= 1
                token = text[p:i].lower().rstrip(".")
                if token in abbreviations or (len(token) == 1 and token.isalpha()):
                    continue
            end = k
        if _NONSPACE.search(text, start, end) is not None:
            spans.append(Span(start, end))
        start = end
    if _NONSPACE.search(text, start) is not None:
        spans.append(Span(start, n))
    return spans


_NONSPACE = re.compile(r"\S")
# A comma, semicolon or colon is a candidate only before a space or the end of the span
# ("10,000", "3:30" never reach Python).
_CLAUSE_CAND = re.compile(r"[,;:()«»\"–—-](?:(?<=[()«»\"–—-])|(?=\s|\Z))")


def split_clauses(text: str, sentence: Span) -> list[Span]:
    """Clause spans inside `sentence`: cut at commas, semicolons, colons, dashes, brackets.

    A comma, semicolon or colon cuts only when a space follows ("10,000" stays whole).
    """
    spans: list[Span] = []
    start = sentence.start
    end_all = sentence.end
    for m in _CLAUSE_CAND.finditer(text, start, end_all):
        i = m.start()
        if text[i] == "-" and not (text[i - 1 : i] == " " and text[i + 1 : i + 2] == " "):
            continue  # a hyphen inside a word, not a dash between clauses
        if i > start:
            spans.append(Span(start, i))
        start = i + 1
        while start < end_all and text[start] == " ":
            start += 1  # a clause starts at its first word
    if end_all > start:
        spans.append(Span(start, end_all))
    return spans or [sentence]
