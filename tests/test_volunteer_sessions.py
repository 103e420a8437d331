"""Volunteers' sessions from the city file: validation, the times offered, holidays and button labels."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from bot.city import JAPAN, load_city
from bot.volunteer_sessions import VolunteerSessionsError, parse_volunteer_sessions

VENUES = [{"id": "chuo", "name": "中央公民館", "place": "2階 会議室", "short": "中央公民館"}]
GOOD: dict[str, Any] = {
    "venues": VENUES,
    "sessions": [{"venue": "chuo", "weekday": "monday", "times": ["10:00", "10:30"], "minutes": 30, "seats": 2}],
}


def sessions_with(**change: Any) -> dict[str, Any]:
    session = {**GOOD["sessions"][0], **change}
    return {**GOOD, "sessions": [session]}


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"venues": []}, "venues"),
        ({**GOOD, "venues": [{**VENUES[0], "short": "みどり市中央公民館"}]}, "short"),
        ({**GOOD, "venues": [*VENUES, *VENUES]}, "used twice"),
        (sessions_with(venue="toshokan"), "venue 'toshokan'"),
        (sessions_with(weekday="月曜日"), "weekday"),
        (sessions_with(times=["10時"]), "time '10時'"),
        (sessions_with(times=["25:00"]), "time '25:00'"),
        (sessions_with(seats=0), "seats"),
        (sessions_with(minutes="30"), "minutes"),
        ({**GOOD, "closed_dates": ["12月30日"]}, "closed_dates"),
    ],
)
def test_a_wrong_field_names_itself_and_the_fix(data: dict[str, Any], names: str) -> None:
    with pytest.raises(VolunteerSessionsError, match=names):
        parse_volunteer_sessions(data, "city.yml: volunteer_sessions")


def test_no_sessions_listed_means_no_booking_in_the_chat() -> None:
    assert parse_volunteer_sessions(None, "city.yml") is None


def test_times_skip_public_holidays_closed_dates_and_the_next_two_hours() -> None:
    sessions = parse_volunteer_sessions({**GOOD, "closed_dates": [datetime.date(2027, 1, 4)]}, "city.yml")
    assert sessions is not None
    # Sunday 27 Dec 2026: Monday 28 Dec is an ordinary day; 4 Jan is closed; 11 Jan is 成人の日 (a holiday).
    slots = sessions.upcoming(datetime.datetime(2026, 12, 27, 12, 0, tzinfo=JAPAN), days=21)
    days = sorted({slot.starts_at.date().isoformat() for slot in slots})
    assert days == ["2026-12-28"]
    monday_morning = datetime.datetime(2026, 12, 28, 8, 15, tzinfo=JAPAN)
    assert [slot.starts_at.time().isoformat() for slot in sessions.upcoming(monday_morning, days=0)] == ["10:30:00"]


def test_the_example_city_offers_labels_that_fit_a_line_button_and_keys_that_come_back() -> None:
    sessions = load_city().volunteer_sessions
    assert sessions is not None
    slots = sessions.upcoming(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=JAPAN))
    assert slots and all(len(slot.label) <= 20 for slot in slots)
    for slot in slots:
        assert sessions.slot_at(slot.key) == slot
    assert sessions.slot_at("chuo@2026-12-03T10:00") is None  # a Thursday: no session then
    assert sessions.slot_at("nowhere") is None
