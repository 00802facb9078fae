"""Input shapes: every text a user types is bounded, cleaned and kept as text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rivendell.models import (
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    InterviewCreate,
    ParticipantCreate,
)

TEN_MB = "x" * (10 * 1024 * 1024)


def make(**overrides: str) -> InterviewCreate:
    fields = {"title": "Pairing round", "language": "python", "creator_name": "Alex"}
    fields.update(overrides)
    return InterviewCreate(**fields)


def test_valid_interview_is_trimmed_and_normalised() -> None:
    data = make(title="  Caf\u0065\u0301  round \n 2 ", creator_name=" Zoë ")
    assert data.title == "Café round 2"
    assert data.creator_name == "Zoë"


@pytest.mark.parametrize("field", ["title", "creator_name"])
@pytest.mark.parametrize("value", ["", "   ", "\n\t", "\u200b\u202e"])
def test_empty_texts_are_refused_with_a_clear_message(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        make(**{field: value})


@pytest.mark.parametrize(
    ("field", "limit"), [("title", MAX_TITLE_CHARS), ("creator_name", MAX_NAME_CHARS)]
)
def test_length_limits(field: str, limit: int) -> None:
    assert len(getattr(make(**{field: "a" * limit}), field)) == limit
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        make(**{field: "a" * (limit + 1)})
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        make(**{field: TEN_MB})


def test_ten_megabyte_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="too long"):
        ParticipantCreate(name=TEN_MB)


def test_html_and_script_stay_plain_text() -> None:
    title = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    assert make(title=title).title == title


def test_odd_unicode_survives_but_bidi_overrides_and_controls_do_not() -> None:
    name = ParticipantCreate(name="\u202eevil\u0000 👩\u200d💻 محمد").name
    assert name == "evil 👩\u200d💻 محمد"


def test_unknown_language_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown language 'cobol'; choose one of: .*python"):
        make(language="cobol")
