"""The fake executor refuses what the real one refuses and answers as configured."""

from __future__ import annotations

import pytest

from rivendell.executor.base import ExecutorUnavailable, RunRefused, RunRequest, Status
from rivendell.executor.fake import FakeExecutor, result


async def test_echoes_stdin_by_default_and_records_requests() -> None:
    async with FakeExecutor() as executor:
        assert await executor.available()
        answer = await executor.run(RunRequest(language="python", code="x", stdin="hi"))
    assert (answer.status, answer.stdout, answer.language) == (Status.OK, "hi", "python")
    assert [r.stdin for r in executor.requests] == ["hi"]


async def test_configured_answer() -> None:
    executor = FakeExecutor(respond=lambda r: result(r, status=Status.TIMEOUT, exit_code=None))
    answer = await executor.run(RunRequest(language="go", code="package main"))
    assert answer.status is Status.TIMEOUT
    assert answer.image.startswith("rivendell-runner-go:")


@pytest.mark.parametrize("language", ["cobol", "sql"])
async def test_refuses_unknown_and_editor_only_languages(language: str) -> None:
    with pytest.raises(RunRefused):
        await FakeExecutor().run(RunRequest(language=language, code="x"))


async def test_unavailable() -> None:
    executor = FakeExecutor(available=False)
    assert not await executor.available()
    with pytest.raises(ExecutorUnavailable, match=r"^server-side execution unavailable"):
        await executor.run(RunRequest(language="python", code="x"))
    assert executor.requests == []
