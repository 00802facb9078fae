"""Fleet tests: several instances on one PostgreSQL and one Redis; the browser fixtures of e2e."""

from tests.e2e.conftest import browser, new_context, page_of

__all__ = ["browser", "new_context", "page_of"]
