"""Interactive API docs at ``/docs``: Swagger UI served from this app, never from a CDN.

The files come from the npm package ``swagger-ui-dist`` that ``make deps`` installs under
``tools/node_modules`` (pinned in ``tools/package.json``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from rivendell.settings import PROJECT_ROOT

__all__ = ["ASSETS_PATH", "SWAGGER_UI_DIR", "assets", "router"]

SWAGGER_UI_DIR = PROJECT_ROOT / "tools" / "node_modules" / "swagger-ui-dist"
ASSETS_PATH = "/docs/assets"

router = APIRouter(include_in_schema=False)

assets = StaticFiles(directory=SWAGGER_UI_DIR, check_dir=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Rivendell API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{schema}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true
    }});
  </script>
</body>
</html>
"""


def docs_page(schema_url: str) -> str:
    """The HTML of the docs page for the schema at ``schema_url``."""
    return _PAGE.format(assets=ASSETS_PATH, schema=schema_url)


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    """Swagger UI on the API's own schema."""
    return HTMLResponse(docs_page("/api/v1/openapi.json"))
