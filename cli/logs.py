"""Logging for long-running commands (``serve``, ``worker``).

``CASECLOCK_LOG_FORMAT=json`` gives one JSON object per line (time, level, logger,
message, and any ``extra`` fields) for log shippers; the default is plain text.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure() -> None:
    handler = logging.StreamHandler()
    if os.environ.get("CASECLOCK_LOG_FORMAT", "text").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("CASECLOCK_LOG_LEVEL", "INFO").upper())
    # APScheduler logs every job run and SpiffWorkflow every task's change of state at
    # INFO (a hundred lines a minute on the demo); keep their warnings only.
    for noisy in ("apscheduler", "spiff"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
