"""The summary card a resident photographs: the procedure, where to go, what to bring. Never personal data.

Built only from the procedure file (its title and what to prepare) and the city's file (its マイナンバー窓口,
the place and the hours), so it says the same for every resident in the same procedure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.city import City
from bot.procedures import Procedure


@dataclass(frozen=True)
class SummaryCard:
    """What the card shows, in the order it shows it."""

    title: str
    bring: tuple[str, ...]
    desk: str
    place: str
    hours: str
    phone: str

    def as_json(self) -> dict[str, Any]:
        """The card for the page."""
        return {**asdict(self), "bring": list(self.bring)}


def summary_card(procedure: Procedure, city: City) -> SummaryCard:
    """The card for a resident in this procedure, in this city."""
    desk = city.helpdesk
    return SummaryCard(procedure.title, procedure.prepare, desk.name, desk.place, desk.hours, desk.phone)
