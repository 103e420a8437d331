"""The admin's read-only page of the desk's hours and the volunteer sessions from the city file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.city import JAPAN, load_city
from bot.console.city_view import city_view
from tests.console.conftest import Desk, logged_in

EXAMPLE = load_city(Path(__file__).resolve().parents[2] / "config" / "city.yml")


@pytest.mark.parametrize(
    ("moment", "open_now", "next_opening"),
    [
        (datetime(2026, 11, 30, 10, 0), True, "明日の8時30分"),
        (datetime(2026, 11, 30, 17, 15), False, "明日の8時30分"),
        (datetime(2026, 12, 5, 12, 0), False, "12月7日（月曜日）の8時30分"),
        (datetime(2026, 12, 29, 10, 0), False, "1月4日（月曜日）の8時30分"),  # year-end days from closed_dates
        (datetime(2027, 1, 11, 10, 0), False, "明日の8時30分"),  # 成人の日, a public holiday
    ],
    ids=["monday morning", "monday at closing", "saturday", "year end", "public holiday"],
)
def test_the_page_says_whether_the_desk_is_open_and_when_it_opens(
    moment: datetime, open_now: bool, next_opening: str
) -> None:
    view = city_view(EXAMPLE, moment.replace(tzinfo=JAPAN))
    assert (view.open_now, view.next_opening) == (open_now, next_opening)


def test_the_hours_and_sessions_are_those_of_the_city_file() -> None:
    view = city_view(EXAMPLE, datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN))
    assert view.opening_rows == [
        ("平日（月曜日から金曜日）", "8:30から17:15まで"),
        ("土曜日", "休み"),
        ("日曜日", "休み"),
    ]
    assert view.closed_on_public_holidays and "2026-12-31" in view.desk_closed_dates
    assert [(s.venue, s.weekday, s.times, s.minutes, s.seats) for s in view.sessions] == [
        ("みどり市 中央公民館", "水曜日", "10:00、10:30、11:00、11:30", 30, 2),
        ("みどり市立図書館", "土曜日", "13:30、14:00、14:30", 30, 1),
    ]
    assert view.upcoming[:2] == [
        ("2026-12-02 10:00", "みどり市 中央公民館", 2),
        ("2026-12-02 10:30", "みどり市 中央公民館", 2),
    ]
    # 2026-12-30 (a Wednesday) is in volunteer_sessions.closed_dates: no session that day.
    assert not any(starts.startswith("2026-12-30") for starts, _, _ in view.upcoming)


def test_a_city_without_hours_or_sessions_says_so(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "config" / "city.yml").read_text(encoding="utf-8")
    bare = text.split("volunteer_sessions:")[0].split("online_services:")[0]
    bare = "\n".join(line for line in bare.splitlines() if "open:" not in line)
    bare = "\n".join(line for line in bare.splitlines() if not line.startswith(("    ", "      -")))
    path = tmp_path / "city.yml"
    path.write_text(bare, encoding="utf-8")
    view = city_view(load_city(path), datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN))
    assert view.open_now is None and view.opening_rows == [] and view.sessions == [] and view.upcoming == []


async def test_the_admin_reads_the_page_and_is_told_where_to_edit(desk: Desk) -> None:
    admin, _ = await logged_in(desk, "admin")
    page = await (await admin.get("/console/city")).text()
    assert "config/city.yml" in page and "書きかえて" in page
    assert "受付時間内です" in page and "8:30から17:15まで" in page
    assert "みどり市 中央公民館" in page and "10:00、10:30、11:00、11:30" in page
    assert "<form" not in page.split('id="main"')[1]  # nothing to edit here: only the log-out form in the header
    desk.clock.advance(hours=8)
    admin, _ = await logged_in(desk, "admin")  # the first session ended while idle
    assert "受付時間外です。次に開くのは明日の8時30分" in await (await admin.get("/console/city")).text()
