"""Every REST endpoint fuzzed by schemathesis against the app's own OpenAPI schema: no 5xx,
no response that breaks the schema, every status documented."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.server import Server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_survives_fuzzing(api_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{api_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    failures: list[str] = []
    cases = 0
    for operation in operations:
        # The execute endpoint starts real sandboxes: fewer examples keep the suite's time sane.
        examples = 15 if operation.path.endswith("/execute") else 60
        try:
            cases += _fuzz(operation, api_server.url, examples)
        except Exception as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    print(f"schemathesis: {cases} cases over {len(operations)} operations")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation, base_url: str, examples: int) -> int:
    calls = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case) -> None:
        nonlocal calls
        calls += 1
        response = case.call(base_url=base_url, timeout=60)
        # Readiness answers a documented 503 when a dependency (Docker) is down: its job.
        health = operation.path == "/api/v1/health" and response.status_code == 503
        case.validate_response(
            response, checks=[c for c in CHECKS if not (health and c is not_a_server_error)]
        )

    fuzz()
    return calls
