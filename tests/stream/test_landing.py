"""The landing zone: files named by positions, in folders of a bounded size, written whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.errors import InputError
from c360.stream import landing
from c360.stream.landing import LandingZone


@pytest.fixture
def zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LandingZone:
    monkeypatch.setattr(landing, "POSITIONS_PER_FOLDER", 10)  # folders of 10 positions
    return LandingZone(tmp_path / "landing")


def test_files_land_in_the_folder_of_their_first_position(zone: LandingZone) -> None:
    for first in range(0, 40, 4):
        zone.write("votes", first, list(range(first, first + 4)))
    relative = [f.path.relative_to(zone.root).as_posix() for f in zone.files("votes")]
    assert relative[:3] == [
        "votes/000000/000000000000-000000000004.jsonl",
        "votes/000000/000000000004-000000000008.jsonl",
        "votes/000000/000000000008-000000000012.jsonl",
    ]
    assert relative[-1] == "votes/000003/000000000036-000000000040.jsonl"
    assert zone.path("votes", 36, 40).read_text() == "36\n37\n38\n39\n"
    assert zone.next_position("votes") == 40
    # From a position, only its folder and the one before are listed.
    assert [f.first for f in zone.files("votes", start=25)] == [12, 16, 20, 24, 28, 32, 36]
    assert [f.first for f in zone.pending("votes", 24, limit=8)] == [24, 28]


def test_a_gap_stops_the_ingester_and_makes_the_processor_wait(zone: LandingZone) -> None:
    zone.write("votes", 0, [1, 2])
    zone.write("votes", 3, [4])  # position 2 is missing
    with pytest.raises(InputError, match="starts at position 3 but the files before it end at 2"):
        zone.next_position("votes")
    assert [f.first for f in zone.pending("votes", 0, limit=100)] == [0]
    assert zone.pending("votes", 2, limit=100) == []


def test_a_write_that_fails_lands_nothing(zone: LandingZone) -> None:
    with pytest.raises(TypeError):
        zone.write("votes", 0, [1, object()])  # not JSON: fails before anything is written
    assert zone.files("votes") == [] and zone.next_position("votes") == 0


def test_clean_removes_what_a_killed_ingester_left_half_written(zone: LandingZone) -> None:
    zone.write("votes", 0, [1])
    left = zone.path("votes", 1, 2).with_name(".000000000001-000000000002.jsonl.123.tmp")
    left.write_text("[1, 2")
    zone.clean()
    assert not left.exists() and zone.next_position("votes") == 1


def test_an_empty_or_missing_zone_starts_at_zero(zone: LandingZone) -> None:
    assert zone.next_position("votes") == 0 and zone.files("events") == []
