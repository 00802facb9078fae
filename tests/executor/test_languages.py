"""Every language folder holds a valid manifest; every runnable one a smoke program and an image."""

from __future__ import annotations

from pathlib import Path

import pytest

from rivendell.executor.base import RunRefused
from rivendell.executor.images import dockerfile, image_names
from rivendell.executor.languages import DEFAULT_LANGUAGE, languages, runnable_language
from rivendell.executor.limits_doc import BEGIN, END, limits_markdown
from tests.generated import generated_block

SERVER_LANGUAGES = {
    "python",
    "javascript",
    "typescript",
    "c",
    "cpp",
    "java",
    "go",
    "rust",
    "ruby",
    "bash",
}
README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_issue_s_languages_run_on_the_server_and_sql_does_not() -> None:
    runnable = {lang.id for lang in languages().values() if lang.runnable}
    assert runnable == SERVER_LANGUAGES
    assert not languages()["sql"].runnable
    assert DEFAULT_LANGUAGE in runnable


@pytest.mark.parametrize("language_id", sorted(SERVER_LANGUAGES))
def test_manifest_is_complete(language_id: str) -> None:
    language = languages()[language_id]
    assert language.name
    assert language.monaco
    assert language.version
    assert language.starter.strip()
    assert language.image in image_names()
    assert dockerfile(language.image).is_file()
    assert "OK" in language.smoke_program
    assert language.run is not None
    assert all(c.startswith("/") for c in (language.run[0],))
    if language.compile is not None:
        assert language.file_name in language.compile


def test_java_entry_class_is_main() -> None:
    java = languages()["java"]
    assert java.file_name == "Main.java"
    assert java.run is not None
    assert java.run[-1] == "Main"
    assert "class Main" in java.smoke_program


def test_every_dockerfile_takes_a_base_argument() -> None:
    for name in image_names():
        text = dockerfile(name).read_text()
        assert "ARG BASE" in text, name
        assert "FROM ${BASE}" in text, name
        assert "USER 65534:65534" in text, name


@pytest.mark.parametrize("language_id", ["cobol", "sql"])
def test_unknown_and_editor_only_languages_are_refused_clearly(language_id: str) -> None:
    with pytest.raises(RunRefused, match=r"Unknown language|cannot be run on the server"):
        runnable_language(language_id)


def test_readme_limits_table_is_generated_from_limits() -> None:
    assert generated_block(README, BEGIN, END) == limits_markdown(), (
        "README limits table is stale: paste `python -m rivendell.executor.limits_doc`"
    )
