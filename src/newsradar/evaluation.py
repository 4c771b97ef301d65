"""Score `analyze` on a labelled JSONL file (shaped like ../shared/data/news_dev.jsonl).

Per item: `analyze(title, summary, language=lang, published=published)`, then

- topics: precision / recall / F1 / support per topic, and micro F1 over the topics
  per language;
- organisations: micro-averaged P/R/F1 of the set of canonical names found against
  `orgs`; names in `orgs_context` (organisations of the article that the text does not
  name) count neither way;
- deals: share of labelled deals found among the non-background deals: investor (when
  labelled) and target match, reported without and with the amount (within 1% of
  `amount_usd`, or of `amount` in `currency`; a null amount must be found null);
- layoffs: share of labelled layoffs found among the non-background layoffs: company
  (when labelled; for round-ups any of `companies` or none) and headcount (when
  labelled) match;
- failures: every item that got something wrong, with what was expected and found.

`EvalReport.failures(...)` turns the floors of the CI gate into messages.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from newsradar.nlp.schema import Analysis
from newsradar.nlp.topics import TOPICS

AMOUNT_TOLERANCE = 0.01


class PRF(BaseModel):
    """Precision, recall, F1 and the number of gold positives."""

    model_config = ConfigDict(frozen=True)
    precision: float
    recall: float
    f1: float
    support: int
    tp: int = 0
    fp: int = 0
    fn: int = 0


class Share(BaseModel):
    """How many labelled items were found."""

    model_config = ConfigDict(frozen=True)
    found: int
    total: int

    @property
    def share(self) -> float:
        """found / total (1.0 when there is nothing to find)."""
        return self.found / self.total if self.total else 1.0


class ItemError(BaseModel):
    """One item that got something wrong."""

    model_config = ConfigDict(frozen=True)
    id: str
    lang: str
    field: str
    expected: Any
    found: Any


class EvalReport(BaseModel):
    """All figures of one evaluation run."""

    model_config = ConfigDict(frozen=True)
    path: str
    items: int
    topics: dict[str, PRF]
    languages: dict[str, PRF]
    organizations: PRF
    deals: Share
    deals_with_amount: Share
    layoffs: Share
    errors: list[ItemError] = Field(default_factory=list)

    def failures(
        self,
        min_topic_f1: float = 0.0,
        min_org_f1: float = 0.0,
        min_deals: float = 0.0,
        min_layoffs: float = 0.0,
        min_language_f1: float = 0.0,
    ) -> list[str]:
        """Messages for every figure below its floor (empty when the gate passes)."""
        out: list[str] = []
        for name, prf in self.topics.items():
            if prf.f1 < min_topic_f1:
                out.append(f"topic {name}: F1 {prf.f1:.3f} < {min_topic_f1:.3f}")
        for lang, prf in self.languages.items():
            if prf.support and prf.f1 < min_language_f1:
                out.append(f"language {lang}: topic F1 {prf.f1:.3f} < {min_language_f1:.3f}")
        if self.organizations.f1 < min_org_f1:
            out.append(f"organisations: F1 {self.organizations.f1:.3f} < {min_org_f1:.3f}")
        if self.deals_with_amount.share < min_deals:
            out.append(
                f"deals found (with amount): {self.deals_with_amount.share:.3f} < {min_deals:.3f}"
            )
        if self.layoffs.share < min_layoffs:
            out.append(f"layoffs found: {self.layoffs.share:.3f} < {min_layoffs:.3f}")
        return out


def _prf(tp: int, fp: int, fn: int) -> PRF:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(
        precision=round(p, 4),
        recall=round(r, 4),
        f1=round(f, 4),
        support=tp + fn,
        tp=tp,
        fp=fp,
        fn=fn,
    )


def _fold(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


@cache
def _alias_keys() -> dict[str, str]:
    """Folded alias -> folded canonical name, from the gazetteer.

    A label may spell an organisation by one of its gazetteer aliases ("Dell" for
    "Dell Technologies", "ICONIQ Growth" for "ICONIQ"): the same organisation, so it
    must compare equal. Aliases that fold onto two organisations are left out.
    """
    from newsradar.nlp.entities import gazetteer

    out: dict[str, str] = {}
    clash: set[str] = set()
    gaz = gazetteer()
    canonical = frozenset(_fold(n) for n in gaz.orgs)
    for surface, (kind, name) in gaz.aliases.items():
        if kind != "org":
            continue
        k, v = _fold(surface), _fold(name)
        if k in canonical and k != v:
            continue  # an alias that is itself another organisation's canonical name
        if out.get(k, v) != v:
            clash.add(k)
        out[k] = v
    for k in clash:
        out.pop(k, None)
    return out


def _key(name: str | None) -> str:
    """Comparison key of an organisation name: case, accents and punctuation folded, and
    a gazetteer alias mapped to its organisation's canonical name."""
    if not name:
        return ""
    folded = _fold(name)
    return _alias_keys().get(folded, folded)


def _close(found: float | None, expected: float) -> bool:
    return found is not None and abs(found - expected) <= AMOUNT_TOLERANCE * abs(expected)


def _deal_matches(gold: dict[str, Any], deal: Any, with_amount: bool) -> bool:
    if gold.get("investor") and _key(gold["investor"]) != _key(deal.investor):
        return False
    if _key(gold.get("target")) != _key(deal.target):
        return False
    if not with_amount:
        return True
    if gold.get("amount_usd") is not None:
        return _close(deal.amount_usd, float(gold["amount_usd"]))
    if gold.get("amount") is not None:
        return (deal.currency or "").upper() == str(gold.get("currency", "")).upper() and _close(
            deal.amount, float(gold["amount"])
        )
    return deal.amount is None


def _layoff_matches(gold: dict[str, Any], layoff: Any) -> bool:
    if gold.get("company"):
        if _key(gold["company"]) != _key(layoff.company):
            return False
    elif layoff.company is not None:
        allowed = {_key(c) for c in gold.get("companies") or []}
        if _key(layoff.company) not in allowed:
            return False
    if gold.get("headcount") is not None:
        return layoff.headcount is not None and _close(
            float(layoff.headcount), float(gold["headcount"])
        )
    return True


def read_items(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _describe_deal(deal: Any) -> dict[str, Any]:
    return {
        "investor": deal.investor,
        "target": deal.target,
        "amount_usd": deal.amount_usd,
        "amount": deal.amount,
        "currency": deal.currency,
        "stage": deal.stage,
        "background": deal.background,
    }


def evaluate_items(items: Iterable[dict[str, Any]], path: str = "<items>") -> EvalReport:
    """Score `analyze` on already-parsed items."""
    from newsradar.nlp.analyze import analyze

    items = list(items)
    topic_counts = {t: [0, 0, 0] for t in TOPICS}
    lang_counts: dict[str, list[int]] = {}
    org_tp = org_fp = org_fn = 0
    deals_found = deals_amount = deals_total = 0
    layoffs_found = layoffs_total = 0
    errors: list[ItemError] = []
    for item in items:
        iid, lang = str(item.get("id", "?")), str(item.get("lang", "?"))
        analysis: Analysis = analyze(
            item.get("title") or "",
            item.get("summary") or "",
            language=item.get("lang"),
            published=item.get("published"),
        )
        gold_topics = set(item.get("topics") or [])
        found_topics = {t.name for t in analysis.topics}
        lc = lang_counts.setdefault(lang, [0, 0, 0])
        for t in TOPICS:
            g, f = t in gold_topics, t in found_topics
            idx = 0 if g and f else 1 if f else 2 if g else -1
            if idx >= 0:
                topic_counts[t][idx] += 1
                lc[idx] += 1
        if gold_topics & set(TOPICS) != found_topics & set(TOPICS):
            errors.append(
                ItemError(
                    id=iid,
                    lang=lang,
                    field="topics",
                    expected=sorted(gold_topics),
                    found=sorted(found_topics),
                )
            )

        gold_orgs = {_key(o): o for o in item.get("orgs") or []}
        context = {_key(o) for o in item.get("orgs_context") or []}
        found_orgs = {_key(o.name): o.name for o in analysis.organizations}
        tp = set(gold_orgs) & set(found_orgs)
        fp = set(found_orgs) - set(gold_orgs) - context
        fn = set(gold_orgs) - set(found_orgs)
        org_tp, org_fp, org_fn = org_tp + len(tp), org_fp + len(fp), org_fn + len(fn)
        if fp or fn:
            errors.append(
                ItemError(
                    id=iid,
                    lang=lang,
                    field="organizations",
                    expected=sorted(gold_orgs[k] for k in fn),
                    found=sorted(found_orgs[k] for k in fp),
                )
            )

        live_deals = [d for d in analysis.deals if not d.background]
        gold_deal = item.get("deal")
        if gold_deal:
            deals_total += 1
            ok = any(_deal_matches(gold_deal, d, False) for d in live_deals)
            ok_amount = any(_deal_matches(gold_deal, d, True) for d in live_deals)
            deals_found += ok
            deals_amount += ok_amount
            if not ok_amount:
                errors.append(
                    ItemError(
                        id=iid,
                        lang=lang,
                        field="deal",
                        expected=gold_deal,
                        found=[_describe_deal(d) for d in analysis.deals],
                    )
                )
        gold_layoff = item.get("layoff")
        if gold_layoff:
            layoffs_total += 1
            live = [lay for lay in analysis.layoffs if not lay.background]
            if any(_layoff_matches(gold_layoff, lay) for lay in live):
                layoffs_found += 1
            else:
                errors.append(
                    ItemError(
                        id=iid,
                        lang=lang,
                        field="layoff",
                        expected=gold_layoff,
                        found=[
                            {
                                "company": lay.company,
                                "headcount": lay.headcount,
                                "percent": lay.percent,
                                "background": lay.background,
                            }
                            for lay in analysis.layoffs
                        ],
                    )
                )
    return EvalReport(
        path=path,
        items=len(items),
        topics={t: _prf(*c) for t, c in topic_counts.items()},
        languages={lang: _prf(*c) for lang, c in sorted(lang_counts.items())},
        organizations=_prf(org_tp, org_fp, org_fn),
        deals=Share(found=deals_found, total=deals_total),
        deals_with_amount=Share(found=deals_amount, total=deals_total),
        layoffs=Share(found=layoffs_found, total=layoffs_total),
        errors=errors,
    )


def evaluate(path: Path) -> EvalReport:
    """Score `analyze` on the labelled JSONL file at `path`."""
    path = Path(path)
    return evaluate_items(read_items(path), str(path))


def format_report(report: EvalReport, *, errors: bool = True) -> str:
    """A plain-text table of the figures, then (optionally) the items it got wrong."""
    lines = [
        f"{report.path}: {report.items} items",
        "",
        "topic            P      R      F1   support",
    ]
    for name, prf in report.topics.items():
        lines.append(
            f"{name:<14} {prf.precision:6.3f} {prf.recall:6.3f} {prf.f1:6.3f} {prf.support:6d}"
        )
    lines += ["", "language  topic F1  support"]
    for lang, prf in report.languages.items():
        lines.append(f"{lang:<9} {prf.f1:8.3f} {prf.support:8d}")
    o = report.organizations
    lines += [
        "",
        f"organisations  P {o.precision:.3f}  R {o.recall:.3f}  F1 {o.f1:.3f}"
        f"  (tp {o.tp}, fp {o.fp}, fn {o.fn})",
        f"deals found    {report.deals.share:.3f} ({report.deals.found}/{report.deals.total})"
        f"   with amount {report.deals_with_amount.share:.3f}"
        f" ({report.deals_with_amount.found}/{report.deals_with_amount.total})",
        f"layoffs found  {report.layoffs.share:.3f}"
        f" ({report.layoffs.found}/{report.layoffs.total})",
    ]
    if errors and report.errors:
        n_items = len({e.id for e in report.errors})
        lines += ["", f"items with errors ({n_items}; {len(report.errors)} errors):"]
        for e in report.errors:
            lines.append(f"  {e.id} [{e.lang}] {e.field}: expected {e.expected} found {e.found}")
    return "\n".join(lines)
