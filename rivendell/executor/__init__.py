"""Running interview code: the executor seam and the languages it knows.

``executor_from_settings()`` gives the executor the settings ask for; use it as
``async with executor_from_settings() as executor: await executor.run(RunRequest(...))``.
"""

from __future__ import annotations

from rivendell.executor.base import Executor, UnavailableExecutor
from rivendell.settings import Settings, get_settings

__all__ = ["executor_from_settings"]


def executor_from_settings(settings: Settings | None = None) -> Executor:
    """The Docker executor, or one that refuses every run when ``RIVENDELL_EXECUTOR=off``."""
    settings = settings or get_settings()
    if settings.executor == "off":
        return UnavailableExecutor("it is turned off on this server (RIVENDELL_EXECUTOR=off)")
    from rivendell.executor.docker import DockerExecutor  # the docker SDK only when used

    return DockerExecutor(
        pool_size=settings.executor_pool_size, instance=settings.executor_instance
    )
