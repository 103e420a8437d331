"""The city configuration (config/city.yml): helpdesk, volunteers, which services are online."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CITY_FILE = ROOT / "config" / "city.yml"

logger = logging.getLogger(__name__)


class CityError(ValueError):
    """The city configuration is missing a field or holds a wrong value."""


@dataclass(frozen=True)
class Place:
    """Where and when residents can get help from people."""

    name: str
    place: str
    hours: str
    phone: str = ""
    booking: str = ""


@dataclass(frozen=True)
class City:
    """What the assistant needs to know about the city that runs it."""

    name: str
    helpdesk: Place
    in_person_help: Place
    online_services: dict[str, bool]
    example: bool


def _text(data: dict[str, Any], key: str, where: str, optional: bool = False) -> str:
    value = data.get(key)
    if optional and value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise CityError(f"{where}: field '{key}' must be a non-empty text; fill it in.")
    return value.strip()


def _place(data: Any, where: str, needs_phone: bool) -> Place:
    if not isinstance(data, dict):
        raise CityError(f"{where}: expected fields name, place, hours; add them.")
    return Place(
        name=_text(data, "name", where),
        place=_text(data, "place", where),
        hours=_text(data, "hours", where),
        phone=_text(data, "phone", where, optional=not needs_phone),
        booking=_text(data, "booking", where, optional=True),
    )


def load_city(path: Path = CITY_FILE) -> City:
    """Read and validate the city configuration."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CityError(f"{path}: cannot be read ({error}).") from error
    if not isinstance(data, dict):
        raise CityError(f"{path}: expected a mapping of fields.")
    services = data.get("online_services") or {}
    if not isinstance(services, dict) or not all(isinstance(v, bool) for v in services.values()):
        raise CityError(f"{path}: online_services must map service keys to true or false.")
    example = data.get("example", False)
    if example:
        logger.warning("%s is the fictional example city; replace its values before deployment.", path)
    return City(
        name=_text(data, "city_name", str(path)),
        helpdesk=_place(data.get("helpdesk"), f"{path}: helpdesk", needs_phone=True),
        in_person_help=_place(data.get("in_person_help"), f"{path}: in_person_help", needs_phone=False),
        online_services=dict(services),
        example=bool(example),
    )
