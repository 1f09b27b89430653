"""Engine-wide collaborators built once per process from :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .calendars import load_calendar
from .clock import Clock, SystemClock
from .notice_templates import load_edited
from .org import OrgCache, StampedCache
from .scripting import Sandbox, SandboxedScriptEngine
from .serialization import WorkflowSerializer
from .standards import load_active
from .workflows import DefinitionCache, WorkflowCache


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str = "Asia/Shanghai"
    script_wall_time: float = 1.0
    script_memory_bytes: int = 256 * 2**20
    workflow_cache_size: int = 2000
    # SLA warnings notified per task; later ones are recorded but not sent.
    max_reminders: int = 3


class Services:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, sandbox: Sandbox | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.timezone = ZoneInfo(settings.timezone)
        self.serializer = WorkflowSerializer()
        self._owns_sandbox = sandbox is None
        self.sandbox = sandbox or Sandbox(
            wall_time=settings.script_wall_time, memory_bytes=settings.script_memory_bytes
        )
        self.script_engine = SandboxedScriptEngine(self.sandbox, clock=self.clock)
        # Timer definitions read dates without an offset in the organisation's zone.
        self.script_engine.timezone = self.timezone
        self.definitions = DefinitionCache(self.serializer)
        self.workflows = WorkflowCache(self.serializer, settings.workflow_cache_size)
        self.org = OrgCache()
        # Read from memory while the org chain stands still (engine.org.StampedCache).
        self.standards = StampedCache(load_active)
        self.calendars = StampedCache(load_calendar)
        self.notice_templates = StampedCache(load_edited)

    def close(self) -> None:
        if self._owns_sandbox:
            self.sandbox.close()
