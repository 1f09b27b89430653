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


def test_served_logs_keep_library_chatter_at_warnings(capsys, monkeypatch):
    """SpiffWorkflow logs every task's change of state at INFO: a served product's log
    shows CaseClock's own INFO lines and only the libraries' warnings."""
    from cli.logs import configure

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.delenv("CASECLOCK_LOG_LEVEL", raising=False)
    monkeypatch.delenv("CASECLOCK_LOG_FORMAT", raising=False)
    try:
        configure()
        logging.getLogger("spiff.task").info("State changed to READY")
        logging.getLogger("apscheduler.executors").info("Job ran")
        logging.getLogger("spiff.workflow").warning("task failed")
        logging.getLogger("timers.worker").info("timers fired=9")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "timers fired=9" in err and "task failed" in err
    assert "State changed" not in err and "Job ran" not in err
