"""Reflex configuration: Rivendell's settings decide the database; nothing here is secret."""

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from rivendell.components.browser_run import PyodidePlugin
from rivendell.components.editor import MonacoVitePlugin
from rivendell.same_origin import SameOriginPlugin
from rivendell.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="rivendell",
    redis_url=settings.redis_url,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                accent_color="iris", gray_color="slate", radius="medium", has_background=True
            )
        ),
        MonacoVitePlugin(),
        PyodidePlugin(),
        SameOriginPlugin(),
    ],
    # Interview rooms are private links: nothing to list in a sitemap.
    disable_plugins=[SitemapPlugin],
)

# Rivendell owns its database (rivendell/db.py: engine, sessions, migrations once it answers), so
# Reflex is told none, not even the REFLEX_DB_URL it reads from the environment by itself: with
# one, `reflex run` connects at build time to compare schemas and exits when the database is
# down, where an instance must start, serve "database unreachable" and wait for it.
config.db_url = None
