"""Near-duplicate fingerprints: the same wire story syndicated under many URLs.

Choice: a 64-bit SimHash (Charikar 2002; Manku et al. 2007 used it for web-crawl
deduplication) over the character 4-grams of the normalised title + summary.
Why SimHash rather than MinHash:

- the fingerprint is one 64-bit number (16 hex chars) that fits in a message field
  and a table key, where MinHash needs 64+ values per article;
- lookup is exact match on bands (pigeonhole: two fingerprints within Hamming
  distance k agree exactly on at least one of k + 1 bands), so an index is a plain
  key -> ids mapping that maps onto a Faust table keyed by band;
- no dependency: about forty lines of standard library code.

What is hashed: the summary alone when it has at least 15 words, else title +
summary. Syndicating sites rewrite or suffix the headline ("... - Reuters") far
more often than the body, and a summary-only fingerprint ignores that. Text is
normalised first (case, accents, punctuation, typographic quotes, whitespace).
Character 4-grams rather than word shingles, by measurement: the texts are short
(20 to 60 words) and word shingles make one edited word flip too many features.

Threshold, measured on the 134 development items (8,911 pairs of different
articles, many about the same deals and companies): different articles are at
least 14 bits apart; at `MAX_DISTANCE` = 8 bits none match, while copies match
with a new headline 98 %, with " - Reuters" appended 100 %, with 1 / 2 / 3 words
altered 98 / 89 / 87 %, and with the last tenth of the summary cut 72 %. Only
copies of one text are near duplicates; two outlets writing their own story about
one deal are not (grouping those is the job of events.py).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict

from pydantic import BaseModel, ConfigDict

from newsradar.models import Article, Enriched
from newsradar.nlp.schema import Analysis

BITS = 64
MAX_DISTANCE = 8
BANDS = MAX_DISTANCE + 1
_BAND_BITS = BITS // BANDS  # 7 bits x 9 bands cover 63 of the 64 bits: pigeonhole still holds
_GRAM = 4
MIN_SUMMARY_WORDS = 15
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(text: str) -> list[str]:
    """Words of `text`, lower-cased, accents and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(stripped)


def _features(words: list[str]) -> list[str]:
    """Character 4-grams of the normalised text (the whole text when shorter)."""
    text = " ".join(words)
    if len(text) <= _GRAM:
        return [text] if text else []
    return [text[i : i + _GRAM] for i in range(len(text) - _GRAM + 1)]


# Bit k of every byte value, as translation tables: counting a bit over many 8-byte digests
# becomes bytes.translate + count, which runs in C (6.5x faster than looping over 64 bits
# per 4-gram in Python; the same fingerprints bit for bit).
_BIT_TABLES = [bytes((value >> k) & 1 for value in range(256)) for k in range(8)]


def simhash(text: str) -> int:
    """The 64-bit SimHash of `text` over character 4-grams (0 for a text without words).

    Each 4-gram is hashed to 64 bits (blake2b); a bit of the result is set when it is set
    in more than half of the 4-grams' hashes.
    """
    features = _features(normalise(text))
    if not features:
        return 0
    digests = b"".join(
        [hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features]
    )
    value = 0
    for byte in range(8):  # big-endian digests: byte 7 holds bits 0..7
        column = digests[byte::8]
        for k in range(8):
            if 2 * column.translate(_BIT_TABLES[k]).count(1) > len(features):
                value |= 1 << ((7 - byte) * 8 + k)
    return value


def fingerprint(title: str, summary: str = "") -> str:
    """The fingerprint of an article as 16 lower-case hex digits.

    Of the summary alone when it has at least MIN_SUMMARY_WORDS words (outlets
    rewrite or suffix headlines of syndicated copies, not the body), else of
    title + summary.
    """
    text = summary if len(summary.split()) >= MIN_SUMMARY_WORDS else f"{title}\n{summary}"
    return f"{simhash(text):016x}"


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex fingerprints."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_near_duplicate(a: str, b: str, max_distance: int = MAX_DISTANCE) -> bool:
    """True when two fingerprints are within `max_distance` bits of each other."""
    return distance(a, b) <= max_distance


def band_keys(fp: str) -> list[str]:
    """The exact-match lookup keys of a fingerprint, one per band ("<band>:<hex>").

    Two fingerprints within MAX_DISTANCE bits share at least one band key, so a
    table keyed by band key finds every candidate; `is_near_duplicate` confirms.
    """
    value = int(fp, 16)
    mask = (1 << _BAND_BITS) - 1
    return [f"{band}:{(value >> (band * _BAND_BITS)) & mask:02x}" for band in range(BANDS)]


class Seen(BaseModel):
    """One indexed article: its fingerprint and id."""

    model_config = ConfigDict(frozen=True)
    fingerprint: str
    article_id: str
    seq: int


class FingerprintIndex:
    """Bounded in-memory index: fingerprint -> the first article id that carried it.

    The first article seen with a fingerprint is the original; later articles
    within MAX_DISTANCE bits are near duplicates of it. The oldest entries are
    forgotten beyond `max_entries` (a wire story is syndicated within days).
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Seen] = OrderedDict()  # article id -> Seen
        self._bands: dict[str, list[str]] = {}  # band key -> article ids
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, fp: str, article_id: str) -> str | None:
        """The earliest other article id whose fingerprint is near `fp`, or None."""
        best: Seen | None = None
        for key in band_keys(fp):
            for other in self._bands.get(key, ()):
                if other == article_id:
                    continue
                seen = self._entries.get(other)
                if seen is None or not is_near_duplicate(fp, seen.fingerprint):
                    continue
                if best is None or seen.seq < best.seq:
                    best = seen
        return best.article_id if best is not None else None

    def add(self, fp: str, article_id: str) -> str | None:
        """Index `article_id` and return the article it near-duplicates, if any.

        Idempotent: adding the same article again returns the same answer and does
        not create a second entry.
        """
        original = self.lookup(fp, article_id)
        if article_id in self._entries:
            return original
        if original is not None:
            # Only originals are indexed: copies would add nothing to later lookups.
            return original
        self._seq += 1
        self._entries[article_id] = Seen(fingerprint=fp, article_id=article_id, seq=self._seq)
        for key in band_keys(fp):
            self._bands.setdefault(key, []).append(article_id)
        while len(self._entries) > self.max_entries:
            old_id, old = self._entries.popitem(last=False)
            for key in band_keys(old.fingerprint):
                ids = self._bands.get(key)
                if ids is not None:
                    ids.remove(old_id)
                    if not ids:
                        del self._bands[key]
        return None


def enrich(article: Article, analysis: Analysis, index: FingerprintIndex | None = None) -> Enriched:
    """The enrich stage's output for one article: article + analysis + fingerprint.

    With an index, `near_duplicate_of` names the earlier article carrying the same
    story (the article is kept and marked, never dropped).
    """
    fp = fingerprint(article.title, article.summary)
    original = index.add(fp, article.id) if index is not None else None
    return Enriched(article=article, analysis=analysis, fingerprint=fp, near_duplicate_of=original)
