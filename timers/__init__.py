"""The timer worker: the clock that fires due timers. Imports the engine, never Flask."""
