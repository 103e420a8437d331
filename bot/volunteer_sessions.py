"""In-person sessions with digital-support volunteers (デジタル活用支援員): venues, weekly times and seats.

Read from `volunteer_sessions:` in the city file. Each session repeats weekly at a venue; each of its times
takes as many residents as it has seats. Public holidays and listed dates have no sessions.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import jpholiday

JAPAN = datetime.timezone(datetime.timedelta(hours=9), "JST")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_SHORT = ("月", "火", "水", "木", "金", "土", "日")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# How far ahead residents may book, and how soon before a session booking closes.
BOOKING_DAYS_AHEAD = 21
BOOKING_CLOSES_BEFORE = datetime.timedelta(hours=2)


class VolunteerSessionsError(ValueError):
    """`volunteer_sessions` in the city file is wrong; the text names the field and the fix."""


@dataclass(frozen=True)
class Venue:
    """A place where volunteers help (公民館, 図書館 …)."""

    id: str
    name: str
    place: str
    short: str  # at most 8 characters: fits, with the date, on a LINE quick-reply button (20 characters)


@dataclass(frozen=True)
class WeeklySession:
    """Volunteers at a venue on one weekday, at these start times, each taking `seats` residents."""

    venue: str
    weekday: int
    times: tuple[datetime.time, ...]
    minutes: int
    seats: int


@dataclass(frozen=True)
class Slot:
    """One bookable time at one venue."""

    venue: Venue
    starts_at: datetime.datetime  # aware, Japan time
    minutes: int
    seats: int

    @property
    def key(self) -> str:
        """Venue and start, e.g. chuo@2026-12-02T10:00 (what a booking button carries)."""
        return f"{self.venue.id}@{self.starts_at.strftime('%Y-%m-%dT%H:%M')}"

    @property
    def label(self) -> str:
        """A button label of at most 20 characters: 「中央公民館 12/2(水)10:00」."""
        start = self.starts_at
        return f"{self.venue.short} {start.month}/{start.day}({WEEKDAY_SHORT[start.weekday()]}){start:%H:%M}"

    @property
    def spoken(self) -> str:
        """「12月2日（水）10時から」, as a resident reads it."""
        start = self.starts_at
        minutes = f"{start.minute}分" if start.minute else ""
        return f"{start.month}月{start.day}日（{WEEKDAY_SHORT[start.weekday()]}）{start.hour}時{minutes}から"


@dataclass(frozen=True)
class VolunteerSessions:
    """Every venue and weekly session, and the dates without sessions."""

    venues: dict[str, Venue]
    sessions: tuple[WeeklySession, ...]
    closed_dates: frozenset[datetime.date] = frozenset()

    def upcoming(self, now: datetime.datetime, days: int = BOOKING_DAYS_AHEAD) -> list[Slot]:
        """Every slot from a little after `now` to `days` days ahead, soonest first."""
        local = now.astimezone(JAPAN)
        earliest = local + BOOKING_CLOSES_BEFORE
        slots: list[Slot] = []
        for offset in range(days + 1):
            day = local.date() + datetime.timedelta(days=offset)
            if day in self.closed_dates or jpholiday.is_holiday(day):
                continue
            for session in self.sessions:
                if session.weekday != day.weekday():
                    continue
                for time in session.times:
                    start = datetime.datetime.combine(day, time, tzinfo=JAPAN)
                    if start >= earliest:
                        slots.append(Slot(self.venues[session.venue], start, session.minutes, session.seats))
        return sorted(slots, key=lambda slot: (slot.starts_at, slot.venue.id))

    def slot(self, key: str, now: datetime.datetime) -> Slot | None:
        """The upcoming slot with this key, or None (past, closed, or never offered)."""
        return next((slot for slot in self.upcoming(now) if slot.key == key), None)

    def slot_at(self, key: str) -> Slot | None:
        """The slot a key names, whenever it is (a booking made earlier), or None when no session matches."""
        venue_id, _, when = key.partition("@")
        try:
            start = datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M").replace(tzinfo=JAPAN)
        except ValueError:
            return None
        for session in self.sessions:
            if session.venue == venue_id and session.weekday == start.weekday() and start.time() in session.times:
                return Slot(self.venues[venue_id], start, session.minutes, session.seats)
        return None


def parse_volunteer_sessions(data: Any, where: str) -> VolunteerSessions | None:
    """Read `volunteer_sessions` (None when the city has none); raise VolunteerSessionsError naming the fix."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("venues"), list) or not data["venues"]:
        raise VolunteerSessionsError(f"{where}: list the venues under 'venues:' (id, name, place, short).")
    venues: dict[str, Venue] = {}
    for index, raw in enumerate(data["venues"]):
        here = f"{where}.venues[{index}]"
        if not isinstance(raw, dict):
            raise VolunteerSessionsError(f"{here}: give id, name, place and short.")
        venue = Venue(*(_field(raw, key, here) for key in ("id", "name", "place", "short")))
        if len(venue.short) > 8:
            raise VolunteerSessionsError(f"{here}: 'short' is longer than 8 characters; shorten it for the buttons.")
        if venue.id in venues:
            raise VolunteerSessionsError(f"{here}: id {venue.id!r} is used twice; give each venue its own id.")
        venues[venue.id] = venue
    raw_sessions = data.get("sessions")
    if not isinstance(raw_sessions, list) or not raw_sessions:
        raise VolunteerSessionsError(f"{where}: list the weekly sessions under 'sessions:'.")
    sessions = tuple(_session(raw, f"{where}.sessions[{i}]", venues) for i, raw in enumerate(raw_sessions))
    closed = data.get("closed_dates") or []
    if not isinstance(closed, list) or not all(isinstance(day, datetime.date) for day in closed):
        raise VolunteerSessionsError(f"{where}: 'closed_dates' must list dates like 2026-12-30.")
    return VolunteerSessions(venues, sessions, frozenset(closed))


def _field(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise VolunteerSessionsError(f"{where}: field '{key}' must be a non-empty text; fill it in.")
    return value.strip()


def _session(raw: Any, where: str, venues: dict[str, Venue]) -> WeeklySession:
    fix = "write e.g. {venue: chuo, weekday: wednesday, times: ['10:00', '10:30'], minutes: 30, seats: 2}"
    if not isinstance(raw, dict):
        raise VolunteerSessionsError(f"{where}: {fix}.")
    venue = raw.get("venue")
    if venue not in venues:
        raise VolunteerSessionsError(f"{where}: venue {venue!r} is not among the venues' ids; {fix}.")
    weekday = raw.get("weekday")
    if weekday not in WEEKDAYS:
        raise VolunteerSessionsError(f"{where}: weekday {weekday!r} must be one of {', '.join(WEEKDAYS)}.")
    times_raw = raw.get("times")
    if not isinstance(times_raw, list) or not times_raw:
        raise VolunteerSessionsError(f"{where}: 'times' must list start times; {fix}.")
    times: list[datetime.time] = []
    for value in times_raw:
        match = _TIME.match(str(value).strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise VolunteerSessionsError(f"{where}: time {value!r} is not like '10:30'; {fix}.")
        times.append(datetime.time(int(match.group(1)), int(match.group(2))))
    minutes, seats = raw.get("minutes"), raw.get("seats")
    if not isinstance(minutes, int) or not 10 <= minutes <= 240:
        raise VolunteerSessionsError(f"{where}: 'minutes' must be a whole number from 10 to 240; {fix}.")
    if not isinstance(seats, int) or not 1 <= seats <= 50:
        raise VolunteerSessionsError(f"{where}: 'seats' must be a whole number from 1 to 50; {fix}.")
    return WeeklySession(str(venue), WEEKDAYS.index(str(weekday)), tuple(sorted(set(times))), minutes, seats)
