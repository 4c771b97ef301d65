"""The analysis contract: frozen pydantic models returned by `newsradar.analyze`.

All offsets (`start`, `end`) index into `Analysis.text`, which is
`title + "\\n" + summary` (just `title` when the summary is empty).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["talks", "announced", "completed", "denied"]


class _Frozen(BaseModel):
    """Base of the analysis models: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Frozen):
    """A span of `Analysis.text` that made a rule fire."""

    text: str
    start: int
    end: int


class Topic(_Frozen):
    """A topic the article is about, with the spans that support it."""

    name: str
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)


class Organization(_Frozen):
    """An organisation mention, resolved to its canonical (English) name."""

    name: str
    surface: str
    start: int
    end: int
    known: bool = Field(description="True when it comes from the gazetteer")
    wikidata: str | None = None


class Person(_Frozen):
    """A person mention from the gazetteer."""

    name: str
    surface: str
    start: int
    end: int


class Money(_Frozen):
    """An amount of money, with its value in USD when the rate is known."""

    value: float
    currency: str
    value_usd: float | None = None
    surface: str
    start: int
    end: int


class Headcount(_Frozen):
    """A number of people (jobs, employees) or a share of a workforce."""

    value: int | None = None
    percent: float | None = None
    surface: str
    start: int
    end: int


class Deal(_Frozen):
    """An investment of `investor` in `target`; `background` when only recalled."""

    investor: str | None = None
    target: str | None = None
    co_investors: list[str] = Field(default_factory=list)
    amount_usd: float | None = None
    amount: float | None = None
    currency: str | None = None
    stage: Stage | None = None
    background: bool = False
    ai: bool | None = Field(
        default=None,
        description="the target is an AI company (None: not judged, e.g. built by hand)",
    )
    evidence: Evidence


class Layoff(_Frozen):
    """Job cuts at `company`; `background` when only recalled."""

    company: str | None = None
    headcount: int | None = None
    percent: float | None = None
    background: bool = False
    evidence: Evidence


class Analysis(_Frozen):
    """Everything `analyze` found in one article."""

    text: str
    language: str
    language_score: float
    topics: list[Topic] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    money: list[Money] = Field(default_factory=list)
    headcounts: list[Headcount] = Field(default_factory=list)
    deals: list[Deal] = Field(default_factory=list)
    layoffs: list[Layoff] = Field(default_factory=list)
    rates_date: str = ""

    def topic(self, name: str) -> Topic | None:
        """The topic called `name`, or None."""
        for t in self.topics:
            if t.name == name:
                return t
        return None

    @property
    def topic_names(self) -> list[str]:
        """Names of the topics found."""
        return [t.name for t in self.topics]
