"""What the admin's page 「受付時間と相談会」 shows of the city file: the desk's hours and the volunteer sessions.

Read-only, as the hub loaded config/city.yml (or CITY_FILE) at start-up; the page says where to change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from bot.city import WEEKDAY_NAMES, City, OpeningHours, city_file
from bot.volunteer_sessions import JAPAN, Slot

DAY_KIND_NAMES = (("weekdays", "平日（月曜日から金曜日）"), ("saturday", "土曜日"), ("sunday", "日曜日"))
UPCOMING_SHOWN = 20


@dataclass(frozen=True)
class SessionRow:
    """One weekly volunteer session as the page lists it."""

    venue: str
    place: str
    weekday: str
    times: str
    minutes: int
    seats: int


@dataclass(frozen=True)
class CityView:
    """The city file's hours and sessions, in words and rows for the page."""

    file: str
    desk_name: str
    desk_place: str
    desk_hours_text: str
    open_now: bool | None
    next_opening: str
    opening_rows: list[tuple[str, str]]
    closed_on_public_holidays: bool
    desk_closed_dates: list[str]
    sessions: list[SessionRow]
    session_closed_dates: list[str]
    upcoming: list[tuple[str, str, int]]


def city_view(city: City, now: datetime) -> CityView:
    """The page's view of the city at `now` (open now or not, the next session dates)."""
    hours = city.helpdesk.open
    sessions = city.volunteer_sessions
    rows: list[SessionRow] = []
    upcoming: list[Slot] = []
    if sessions is not None:
        for session in sessions.sessions:
            venue = sessions.venues[session.venue]
            times = "、".join(_clock(t) for t in session.times)
            rows.append(
                SessionRow(
                    venue.name, venue.place, WEEKDAY_NAMES[session.weekday], times, session.minutes, session.seats
                )
            )
        upcoming = sessions.upcoming(now)[:UPCOMING_SHOWN]
    return CityView(
        file=str(city_file()),
        desk_name=city.helpdesk.name,
        desk_place=city.helpdesk.place,
        desk_hours_text=city.helpdesk.hours,
        open_now=hours.is_open(now) if hours else None,
        next_opening=hours.spoken_next_opening(now) if hours else "",
        opening_rows=_opening_rows(hours) if hours else [],
        closed_on_public_holidays=bool(hours and hours.closed_on_public_holidays),
        desk_closed_dates=sorted(day.isoformat() for day in hours.closed_dates) if hours else [],
        sessions=rows,
        session_closed_dates=sorted(day.isoformat() for day in sessions.closed_dates) if sessions else [],
        upcoming=[
            (f"{slot.starts_at.astimezone(JAPAN):%Y-%m-%d %H:%M}", slot.venue.name, slot.seats) for slot in upcoming
        ],
    )


def _opening_rows(hours: OpeningHours) -> list[tuple[str, str]]:
    rows = []
    for kind, name in DAY_KIND_NAMES:
        span = hours.ranges.get(kind)
        rows.append((name, f"{_clock(span[0])}から{_clock(span[1])}まで" if span else "休み"))
    return rows


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"
