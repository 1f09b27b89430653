"""Structured logs for operators."""

from __future__ import annotations

import json
import logging

from cli.logs import JsonFormatter


def test_json_log_lines_carry_extra_fields():
    record = logging.makeLogRecord(
        {
            "name": "timers.worker",
            "levelname": "INFO",
            "msg": "fired %d",
            "args": (3,),
            "timer_id": 42,
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "fired 3" and entry["timer_id"] == 42
    assert entry["level"] == "INFO" and entry["logger"] == "timers.worker"
