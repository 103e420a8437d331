"""The city configuration (config/city.yml): helpdesk, volunteers, which services are online."""

from __future__ import annotations

import datetime
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jpholiday
import yaml

from bot.volunteer_sessions import VolunteerSessions, VolunteerSessionsError, parse_volunteer_sessions

ROOT = Path(__file__).resolve().parent.parent
CITY_FILE = ROOT / "config" / "city.yml"

logger = logging.getLogger(__name__)


class CityError(ValueError):
    """The city configuration is missing a field or holds a wrong value."""


JAPAN = datetime.timezone(datetime.timedelta(hours=9), "JST")
DAY_KINDS = ("weekdays", "saturday", "sunday")
WEEKDAY_NAMES = ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _day_kind(day: datetime.date) -> str:
    return DAY_KINDS[0] if day.weekday() < 5 else DAY_KINDS[1] if day.weekday() == 5 else DAY_KINDS[2]


def spoken_time(moment: datetime.time) -> str:
    """8:30 as 「8時30分」, 10:00 as 「10時」."""
    return f"{moment.hour}時{moment.minute}分" if moment.minute else f"{moment.hour}時"


@dataclass(frozen=True)
class OpeningHours:
    """When a desk answers, by kind of day, in Japan time, and the dates it is closed (holidays)."""

    ranges: Mapping[str, tuple[datetime.time, datetime.time]] = field(default_factory=dict)
    closed_dates: frozenset[datetime.date] = frozenset()
    closed_on_public_holidays: bool = False

    def _range(self, day: datetime.date) -> tuple[datetime.time, datetime.time] | None:
        if day in self.closed_dates or (self.closed_on_public_holidays and jpholiday.is_holiday(day)):
            return None
        return self.ranges.get(_day_kind(day))

    def is_open(self, moment: datetime.datetime) -> bool:
        """Whether the desk answers at this moment."""
        local = moment.astimezone(JAPAN)
        hours = self._range(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def next_opening(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The next time the desk opens after this moment (within two weeks), or None if it never opens."""
        local = moment.astimezone(JAPAN)
        for offset in range(15):
            day = local.date() + datetime.timedelta(days=offset)
            hours = self._range(day)
            if hours is None:
                continue
            opening = datetime.datetime.combine(day, hours[0], tzinfo=JAPAN)
            if opening > local:
                return opening
        return None

    def spoken_next_opening(self, moment: datetime.datetime) -> str:
        """「明日の8時30分」, 「月曜日の8時30分」: when the desk opens next, as a resident would say it."""
        opening = self.next_opening(moment)
        if opening is None:
            return ""
        days = (opening.date() - moment.astimezone(JAPAN).date()).days
        named = f"{opening.month}月{opening.day}日（{WEEKDAY_NAMES[opening.weekday()]}）"
        day = {0: "今日", 1: "明日"}.get(days, named)
        return f"{day}の{spoken_time(opening.time())}"


@dataclass(frozen=True)
class Place:
    """Where and when residents can get help from people."""

    name: str
    place: str
    hours: str
    phone: str = ""
    booking: str = ""
    open: OpeningHours | None = None


@dataclass(frozen=True)
class City:
    """What the assistant needs to know about the city that runs it."""

    name: str
    helpdesk: Place
    in_person_help: Place
    general_contact: Place  # the main line, for services other than the card
    online_services: dict[str, bool]
    example: bool
    volunteer_sessions: VolunteerSessions | None = None  # bookable in the chat when the city lists them


def _text(data: dict[str, Any], key: str, where: str, optional: bool = False) -> str:
    value = data.get(key)
    if optional and value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise CityError(f"{where}: field '{key}' must be a non-empty text; fill it in.")
    return value.strip()


def _opening_hours(data: Any, where: str) -> OpeningHours | None:
    if data is None:
        return None
    fix = f"write e.g. 'weekdays: \"08:30-17:15\"' (keys {', '.join(DAY_KINDS)}, closed_dates)"
    if not isinstance(data, dict) or set(data) - {*DAY_KINDS, "closed_dates", "public_holidays"}:
        raise CityError(f"{where}: field 'open' must map {', '.join(DAY_KINDS)} to hours; {fix}.")
    ranges: dict[str, tuple[datetime.time, datetime.time]] = {}
    for kind in DAY_KINDS:
        value = data.get(kind)
        if value is None:
            continue
        match = _RANGE.match(str(value).strip())
        if not match:
            raise CityError(f"{where}: field 'open.{kind}' is {value!r}; {fix}.")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        try:
            start, end = datetime.time(h1, m1), datetime.time(h2, m2)
        except ValueError as error:
            raise CityError(f"{where}: field 'open.{kind}' is not a time of day ({error}); {fix}.") from error
        if start >= end:
            raise CityError(f"{where}: field 'open.{kind}' closes before it opens; {fix}.")
        ranges[kind] = (start, end)
    closed = data.get("closed_dates") or []
    if not isinstance(closed, list) or not all(isinstance(day, datetime.date) for day in closed):
        raise CityError(f"{where}: field 'open.closed_dates' must list dates like 2027-01-01.")
    holidays = data.get("public_holidays", "open")
    if holidays not in ("open", "closed"):
        raise CityError(f"{where}: field 'open.public_holidays' is {holidays!r}; write closed or open.")
    return OpeningHours(ranges, frozenset(closed), closed_on_public_holidays=holidays == "closed")


def _place(data: Any, where: str, needs_phone: bool) -> Place:
    if not isinstance(data, dict):
        raise CityError(f"{where}: expected fields name, place, hours; add them.")
    return Place(
        name=_text(data, "name", where),
        place=_text(data, "place", where),
        hours=_text(data, "hours", where),
        phone=_text(data, "phone", where, optional=not needs_phone),
        booking=_text(data, "booking", where, optional=True),
        open=_opening_hours(data.get("open"), where),
    )


def city_file() -> Path:
    """The city's configuration: CITY_FILE from the environment when set, else config/city.yml."""
    configured = os.environ.get("CITY_FILE", "").strip()
    return Path(configured) if configured else CITY_FILE


def load_city(path: Path | None = None) -> City:
    """Read and validate the city configuration (by default the file `city_file()` names)."""
    path = path or city_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CityError(f"{path}: cannot be read ({error}).") from error
    if not isinstance(data, dict):
        raise CityError(f"{path}: expected a mapping of fields.")
    services = data.get("online_services") or {}
    if not isinstance(services, dict) or not all(isinstance(v, bool) for v in services.values()):
        raise CityError(f"{path}: online_services must map service keys to true or false.")
    try:
        sessions = parse_volunteer_sessions(data.get("volunteer_sessions"), f"{path}: volunteer_sessions")
    except VolunteerSessionsError as error:
        raise CityError(str(error)) from error
    example = data.get("example", False)
    if example:
        logger.warning("%s is the fictional example city; replace its values before deployment.", path)
    return City(
        name=_text(data, "city_name", str(path)),
        helpdesk=_place(data.get("helpdesk"), f"{path}: helpdesk", needs_phone=True),
        in_person_help=_place(data.get("in_person_help"), f"{path}: in_person_help", needs_phone=False),
        general_contact=_place(data.get("general_contact"), f"{path}: general_contact", needs_phone=True),
        online_services=dict(services),
        example=bool(example),
        volunteer_sessions=sessions,
    )
