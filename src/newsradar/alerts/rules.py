"""Rules: decide, from the configured `RuleSettings`, which event states become alerts.

Pure stage logic. An alert is decided for a rule and an event state when:

- the rule matches the state (`matches`): same kind; `parties_all` all among the
  event's parties and `parties_any` at least one (canonical names, case-insensitive);
  `languages` shares a language with the event; `min_amount_usd` and
  `min_headcount` are met; `min_sources` distinct sources report it. A threshold on
  a value the event does not have fails: a deal without a known USD amount never
  passes `min_amount_usd`, and a layoff known only as a percentage ("cuts 5 % of
  its staff") never passes `min_headcount`, since the workforce it applies to is
  unknown. When a later report brings the missing number, the rule is evaluated
  again on that update and fires then.
- and the state is news for that rule:
  * the rule has not alerted on the event yet, and the state is `new`, or an
    `update` that changed something (so a rule whose `min_sources` or threshold
    is reached later fires on the first state that reaches it); ledger key
    `rule:event_key:event_id`, reason "new" or "update:<changes>";
  * or the rule has alerted already, has `on_update: true`, and this update changed
    the amount or headcount, named the investor, or moved the stage: ledger key
    `rule:event_key:event_id:v<version>`, reason "update:<changes>".

Background states, repeats and updates with nothing changed never alert. The
caller passes the ledger keys already decided (`EventBook.alerted(event_id)`) and
stores the new ones (`EventBook.with_alerted`); `apply_and_decide` does both, so
the same event state never yields the same ledger key twice, across replays too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from newsradar.config import EventSettings, RuleSettings
from newsradar.events import EventBook, Report, apply, canonical
from newsradar.models import Alert, Change, Event, utcnow

UPDATE_CHANGES: frozenset[Change] = frozenset({"investor", "amount", "headcount", "stage"})

AlreadyAlerted = set[str] | frozenset[str] | Callable[[str], bool]


def ledger_key(rule: RuleSettings | str, event: Event, version: int | None = None) -> str:
    """`rule:event_key:event_id`, with `:v<version>` for an on_update re-alert."""
    name = rule if isinstance(rule, str) else rule.name
    base = f"{name}:{event.key}:{event.event_id}"
    return f"{base}:v{version}" if version is not None else base


def matches(rule: RuleSettings, event: Event) -> bool:
    """True when the event state passes every filter of the rule (see module docstring)."""
    if rule.kind != event.kind:
        return False
    parties = {canonical(p) for p in event.parties}
    if rule.parties_all and not all(canonical(p) in parties for p in rule.parties_all):
        return False
    if rule.parties_any and not any(canonical(p) in parties for p in rule.parties_any):
        return False
    if rule.languages:
        wanted = {lang.casefold() for lang in rule.languages}
        if not any(lang.casefold() in wanted for lang in event.languages):
            return False
    if rule.min_amount_usd is not None and (
        event.amount_usd is None or event.amount_usd < rule.min_amount_usd
    ):
        return False
    if rule.min_headcount is not None and (
        event.headcount is None or event.headcount < rule.min_headcount
    ):
        return False
    return len(event.sources) >= rule.min_sources


def _seen(already_alerted: AlreadyAlerted) -> Callable[[str], bool]:
    if callable(already_alerted):
        return already_alerted
    return already_alerted.__contains__


def decide(
    event: Event,
    rules: Sequence[RuleSettings],
    already_alerted: AlreadyAlerted,
    *,
    now: datetime | None = None,
) -> list[Alert]:
    """The alerts this event state deserves, none whose ledger key was already decided."""
    if event.status == "background" or event.repeat:
        return []
    if event.status == "update" and not event.changed:
        return []
    seen = _seen(already_alerted)
    decided_at = now or utcnow()
    alerts: list[Alert] = []
    for rule in rules:
        if not matches(rule, event):
            continue
        base = ledger_key(rule, event)
        if not seen(base):
            key = base
            reason = "new" if event.status == "new" else "update:" + ",".join(event.changed)
        elif rule.on_update and event.status == "update":
            relevant = [c for c in event.changed if c in UPDATE_CHANGES]
            if not relevant:
                continue
            key = ledger_key(rule, event, event.version)
            if seen(key):
                continue
            reason = "update:" + ",".join(relevant)
        else:
            continue
        alerts.append(
            Alert(
                ledger_key=key,
                rule=rule.name,
                channels=list(rule.channels),
                event=event,
                reason=reason,
                decided_at=decided_at,
            )
        )
    return alerts


def apply_and_decide(
    book: EventBook | None,
    report: Report,
    settings: EventSettings,
    rules: Sequence[RuleSettings],
    *,
    now: datetime | None = None,
) -> tuple[EventBook, Event, list[Alert]]:
    """apply() then decide(), remembering the decided ledger keys in the returned book.

    This is the whole events+decide step for one report: the agent stores the book
    in its table, sends the Event to news.events and the alerts to news.alerts.
    """
    new_book, event = apply(book, report, settings)
    alerts = decide(event, rules, new_book.alerted(event.event_id), now=now)
    return new_book.with_alerted(event.event_id, _keys(alerts)), event, alerts


def _keys(alerts: Iterable[Alert]) -> list[str]:
    return [alert.ledger_key for alert in alerts]
