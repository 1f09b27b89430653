"""The engine as one object: database, services and command executor, built from settings.

Adapters (CLI, web, worker) build one :class:`CaseClock` and call :meth:`execute`
with a command, or :meth:`read` with a query function. Nothing is created at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from .clock import Clock
from .executor import CommandContext, CommandExecutor
from .scripting import Sandbox
from .services import Services, Settings
from .store import create_schema, default_url, make_engine, make_sessionmaker
from .store.database import ensure_database

T = TypeVar("T")


def settings_from_env(database_url: str | None = None) -> Settings:
    return Settings(
        database_url=database_url or os.environ.get("CASECLOCK_DATABASE_URL") or default_url(),
        timezone=os.environ.get("CASECLOCK_TIMEZONE", "Asia/Shanghai"),
    )


class CaseClock:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, sandbox: Sandbox | None = None
    ) -> None:
        self.settings = settings
        self.db = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.db)
        self.services = Services(settings, clock, sandbox)
        self.executor = CommandExecutor(self.sessions, self.services)

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def init_schema(self) -> None:
        """Create the database (PostgreSQL, if missing) and every table (if missing)."""
        ensure_database(self.settings.database_url)
        create_schema(self.db)

    def execute(self, command: Callable[[CommandContext], T], actor: str = "system") -> T:
        return self.executor.execute(command, actor)

    def read(self, query: Callable[[Session], T]) -> T:
        return self.executor.read(query)

    def close(self) -> None:
        self.services.close()
        self.db.dispose()
