"""The executor seam: request validation, limits and their overrides, the unavailable error."""

from __future__ import annotations

import dataclasses

import pytest

from rivendell.executor import executor_from_settings
from rivendell.executor.base import (
    MAX_INPUT_BYTES,
    OVERRIDABLE,
    ExecutorUnavailable,
    Limits,
    RunRefused,
    RunRequest,
    UnavailableExecutor,
    capped_text,
)
from rivendell.settings import Settings


@pytest.mark.parametrize("code", ["", "   \n\t"])
def test_empty_code_is_refused(code: str) -> None:
    with pytest.raises(RunRefused, match="no code"):
        RunRequest(language="python", code=code)


def test_code_at_the_limit_is_accepted_and_one_byte_more_refused() -> None:
    RunRequest(language="python", code="#" * MAX_INPUT_BYTES)
    with pytest.raises(RunRefused, match="code is over the 1 MiB limit"):
        RunRequest(language="python", code="#" * (MAX_INPUT_BYTES + 1))


def test_stdin_over_the_limit_is_refused_counting_bytes_not_characters() -> None:
    with pytest.raises(RunRefused, match="program input is over the 1 MiB limit"):
        RunRequest(language="python", code="pass", stdin="é" * (MAX_INPUT_BYTES // 2 + 1))


def test_default_limits_are_the_issue_s() -> None:
    limits = Limits()
    assert limits.memory_bytes == 256 * 2**20
    assert (limits.processes, limits.open_files, limits.cpus) == (64, 64, 1.0)
    assert (limits.cpu_seconds, limits.wall_seconds) == (5, 10.0)
    assert limits.output_bytes == 64 * 1024
    assert not limits.network
    assert limits.read_only_root
    assert limits.no_new_privileges
    assert limits.capabilities == ()
    assert limits.environment == ()
    assert limits.user.split(":")[0] != "0"


def test_every_limit_documents_what_it_stops() -> None:
    for spec in dataclasses.fields(Limits):
        assert spec.metadata["doc"], spec.name
        assert spec.metadata["stops"], spec.name


def test_overrides_change_only_numbers() -> None:
    raised = Limits().with_overrides({"memory_bytes": 512 * 2**20})
    assert raised.memory_bytes == 512 * 2**20
    for isolation in ("network", "user", "capabilities", "read_only_root", "environment"):
        assert isolation not in OVERRIDABLE
        with pytest.raises(ValueError, match="may not override"):
            Limits().with_overrides({isolation: True})


def test_capped_text_marks_truncation_and_replaces_invalid_utf8() -> None:
    text, cut = capped_text(b"abc", limit=3)
    assert (text, cut) == ("abc", False)
    text, cut = capped_text(b"\xff" + b"x" * 2048, limit=1024)
    assert cut
    assert text.startswith("\ufffd")
    assert "output truncated" in text


def test_unavailable_message_is_for_users() -> None:
    assert str(ExecutorUnavailable("Docker is down")) == (
        "server-side execution unavailable: Docker is down"
    )


async def test_executor_off_refuses_every_run_with_the_reason() -> None:
    async with executor_from_settings(Settings(executor="off")) as executor:
        assert not await executor.available()
        with pytest.raises(ExecutorUnavailable, match="RIVENDELL_EXECUTOR=off"):
            await executor.run(RunRequest(language="python", code="print(1)"))
    assert isinstance(executor, UnavailableExecutor)
