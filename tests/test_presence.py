"""Presence: online while any page of a participant beats, offline on leave or silence."""

from __future__ import annotations

from rivendell.presence import Presence


def test_first_beat_brings_a_seat_online_and_later_beats_do_not() -> None:
    presence = Presence(timeout=10)
    assert presence.beat(client="tab1", seat=("room", 1), now=0) is True
    assert presence.beat(client="tab1", seat=("room", 1), now=1) is False
    assert presence.beat(client="tab2", seat=("room", 1), now=1) is False
    assert presence.online("room") == {1}
    assert presence.online("other") == set()


def test_seat_goes_offline_only_when_its_last_page_leaves() -> None:
    presence = Presence(timeout=10)
    presence.beat(client="tab1", seat=("room", 1), now=0)
    presence.beat(client="tab2", seat=("room", 1), now=0)
    assert presence.leave("tab1") is None
    assert presence.online("room") == {1}
    assert presence.leave("tab2") == ("room", 1)
    assert presence.online("room") == set()
    assert presence.leave("tab2") is None


def test_silent_pages_are_swept_after_the_timeout() -> None:
    presence = Presence(timeout=10)
    presence.beat(client="quiet", seat=("room", 1), now=0)
    presence.beat(client="chatty", seat=("room", 2), now=0)
    presence.beat(client="chatty", seat=("room", 2), now=9)
    assert presence.sweep(now=10) == []
    assert presence.sweep(now=10.5) == [("room", 1)]
    assert presence.online("room") == {2}


def test_a_page_that_moves_to_another_room_leaves_the_first() -> None:
    presence = Presence(timeout=10)
    presence.beat(client="tab", seat=("a", 1), now=0)
    assert presence.beat(client="tab", seat=("b", 7), now=1) is True
    assert presence.online("a") == set()
    assert presence.online("b") == {7}
