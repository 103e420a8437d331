"""Where to send a resident who needs a person: the city's desk, volunteers and the national lines.

Each contact is a domain response (``guide_contact_*``). The city's desk says whether it is open
now and when it opens next; the national lines that share 0120-95-0178 are said once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from bot.city import City

# The 0120-95-0178 line answers weekdays 9:30–20:00 and weekends and holidays 9:30–17:30
# (mynaportal-facts.md §0.2); its suspension menu (2番) answers at any hour.
LOST_CARD_LINES = frozenset({"card_suspension_line", "my_number_line"})


@dataclass(frozen=True)
class ContactReply:
    """A contact as a domain response with its parameters (or a text as written)."""

    response: str | None = None
    text: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def desk_is_open(city: City, now: datetime.datetime) -> bool | None:
    """Whether the city's desk is open now; None when the city has not given its hours."""
    hours = city.helpdesk.open
    return None if hours is None else hours.is_open(now)


def contact_replies(city: City, keys: tuple[str, ...], now: datetime.datetime) -> list[ContactReply]:
    """The contacts for these keys, in order, with the two 0120-95-0178 lines said once."""
    replies: list[ContactReply] = []
    keys = tuple(dict.fromkeys(keys))
    if LOST_CARD_LINES <= set(keys):
        first = min(keys.index(key) for key in LOST_CARD_LINES)
        keys = tuple(key for key in keys if key not in LOST_CARD_LINES)
        keys = (*keys[:first], "lost_card_lines", *keys[first:])
    for key in keys:
        if key == "city_helpdesk":
            desk = city.helpdesk
            params = {"name": desk.name, "place": desk.place, "phone": desk.phone, "hours": desk.hours}
            replies.append(ContactReply("guide_contact_city_helpdesk", params=params))
        elif key == "general_contact":
            line = city.general_contact
            params = {"name": line.name, "place": line.place, "phone": line.phone, "hours": line.hours}
            replies.append(ContactReply("guide_contact_general", params=params))
        elif key == "in_person_help":
            help_ = city.in_person_help
            params = {"name": help_.name, "place": help_.place, "hours": help_.hours, "booking": help_.booking}
            replies.append(ContactReply("guide_contact_in_person_help", params=params))
        else:
            replies.append(ContactReply(f"guide_contact_{key}"))
    return replies


def handoff_intro(city: City, reason: str, now: datetime.datetime) -> ContactReply:
    """The first words of a handoff: a person helps now, or the desk is closed and opens at…"""
    if desk_is_open(city, now) is False and city.helpdesk.open is not None:
        opens = city.helpdesk.open.spoken_next_opening(now)
        if opens:
            return ContactReply("guide_handoff_closed", params={"opens": opens})
    intro = {"asked": "guide_handoff_asked", "step_failed": "guide_handoff_step_failed"}
    return ContactReply(intro.get(reason, "guide_handoff_not_understood"))
