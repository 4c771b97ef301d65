"""Alerts: rules decide which events deserve an alert (rules.py); channels deliver them."""

from __future__ import annotations

from newsradar.alerts.rules import apply_and_decide, decide, ledger_key, matches

__all__ = ["apply_and_decide", "decide", "ledger_key", "matches"]
