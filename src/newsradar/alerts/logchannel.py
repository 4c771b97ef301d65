"""Log channel: one structured line per alert in the service log.

The line reads `alert channel=<name> rule=<rule> ledger_key=<key> reason=<reason>
headline="<headline>"` (the headline JSON-quoted, so the line stays one line),
and the same values are attached to the record as `extra` (`alert_channel`,
`alert_rule`, `alert_ledger_key`, `alert_reason`, `alert_headline`) for JSON
log formatters. Logger: `newsradar.alerts.log`, level INFO.
"""

from __future__ import annotations

import json
import logging

from newsradar.alerts.slack import headline
from newsradar.models import Alert

__all__ = ["LOGGER_NAME", "log_alert", "log_line"]

LOGGER_NAME = "newsradar.alerts.log"
_log = logging.getLogger(LOGGER_NAME)


def log_line(alert: Alert, channel_name: str) -> str:
    """The text of the log line for `alert` on channel `channel_name`."""
    return (
        f"alert channel={channel_name} rule={alert.rule} ledger_key={alert.ledger_key} "
        f"reason={alert.reason} headline={json.dumps(headline(alert), ensure_ascii=False)}"
    )


def log_alert(alert: Alert, channel_name: str, logger: logging.Logger | None = None) -> None:
    """Write the alert's line at INFO to `logger` (default `newsradar.alerts.log`)."""
    (logger or _log).info(
        "%s",
        log_line(alert, channel_name),
        extra={
            "alert_channel": channel_name,
            "alert_rule": alert.rule,
            "alert_ledger_key": alert.ledger_key,
            "alert_reason": alert.reason,
            "alert_headline": headline(alert),
        },
    )
