"""The procedure catalog: one validated YAML file per procedure in data/procedures/.

``python -m bot.procedures check`` validates every file (with the glossary and the city
configuration) and exits non-zero naming the file, the field and the fix.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROCEDURES_DIR = ROOT / "data" / "procedures"

DEVICES = ("iphone", "android", "pc")
PROCEDURE_INTENTS = (
    "card_apply",
    "card_receive",
    "card_renew",
    "card_lost",
    "pin_forgot",
    "portal_login",
    "smartphone_cert",
    "health_insurance",
    "bank_account",
    "child_allowance",
    "nursing_care",
    "disaster_certificate",
    "moving",
    "convenience_store",
    "tax_filing",
    "car_ownership",
)
CONTACT_KEYS = ("city_helpdesk", "in_person_help", "my_number_line", "card_suspension_line")
TITLE_MAX = 20
CHOICE_LABEL_MAX = 12
# Where a choice leads: the next step, the end of the guide (its reply says what to do instead), or a step id.
CHOICE_NEXT, CHOICE_END = "next", "end"
CHOICE_INTENTS = ("affirm", "deny")


class CatalogError(ValueError):
    """A procedure file is missing a field or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Problem:
    """A likely cause of a failed step, with its fix."""

    cause: str
    fix: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepChoice:
    """One answer a step offers (「していません」, 「数字4けた」): a resident's choice, never a failure."""

    id: str
    label: str
    then: str
    reply: str = ""
    words: tuple[str, ...] = ()
    intent: str | None = None


@dataclass(frozen=True)
class ProcedureStep:
    """One instruction a resident carries out, with its plainer wording and common problems."""

    id: str
    text: str
    plain: str
    problems: tuple[Problem, ...]
    devices: Mapping[str, str] = field(default_factory=dict)
    plain_devices: Mapping[str, str] = field(default_factory=dict)
    only_for: tuple[str, ...] = ()
    choices: tuple[StepChoice, ...] = ()

    def applies_to(self, device: str | None) -> bool:
        """Whether the step is shown to a resident using this device."""
        return not self.only_for or device is None or device in self.only_for

    def instruction(self, device: str | None) -> str:
        """The instruction as worded for the device."""
        return self.devices.get(device or "", self.text)

    def plainer(self, device: str | None) -> str:
        """The plainer, more detailed wording for the device."""
        return self.plain_devices.get(device or "", self.plain)


@dataclass(frozen=True)
class Source:
    """A public page the content was checked against."""

    url: str
    title: str


@dataclass(frozen=True)
class Ending:
    """How the guide closes: what the resident has achieved (or what to do instead), and what comes next."""

    summary: str
    next: str
    achieved: bool = True


@dataclass(frozen=True)
class Procedure:
    """A Mynaportal or My Number Card procedure, guided one step at a time."""

    id: str
    title: str
    summary: str
    for_whom: str
    prepare: tuple[str, ...]
    steps: tuple[ProcedureStep, ...]
    done_summary: str
    done_next: str
    help: tuple[str, ...]
    sources: tuple[Source, ...]
    checked: datetime.date
    urgent: tuple[str, ...] = ()
    asks_device: bool = False
    city_key: str | None = None
    done_devices: Mapping[str, Ending] = field(default_factory=dict)

    def steps_for(self, device: str | None) -> tuple[ProcedureStep, ...]:
        """The steps a resident with this device goes through, in order."""
        return tuple(step for step in self.steps if step.applies_to(device))

    def ending_for(self, device: str | None) -> Ending:
        """The closing for this device: a branch that achieves nothing says what to do instead."""
        return self.done_devices.get(device or "", Ending(self.done_summary, self.done_next))


class _Fields:
    """Reads fields of one mapping and reports errors with the file and field named."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise CatalogError(f"{where}: expected a mapping of fields; check the indentation.")
        self.data = data
        self.where = where

    def text(self, key: str, optional: bool = False) -> str:
        value = self.data.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{self.where}: field '{key}' must be a non-empty text; add it.")
        return value.strip()

    def texts(self, key: str, optional: bool = False) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None and optional:
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise CatalogError(f"{self.where}: field '{key}' must be a non-empty list of texts.")
        return tuple(v.strip() for v in value)

    def words(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
            raise CatalogError(f"{self.where}: field '{key}' must list words a resident might type.")
        return tuple(str(v).strip() for v in value)

    def device_texts(self, key: str) -> dict[str, str]:
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            raise CatalogError(f"{self.where}: field '{key}' must map devices to texts.")
        unknown = set(value) - set(DEVICES)
        if unknown:
            raise CatalogError(
                f"{self.where}: field '{key}' names unknown devices {sorted(unknown)}; use {', '.join(DEVICES)}."
            )
        for device, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise CatalogError(f"{self.where}: field '{key}.{device}' must be a non-empty text.")
        return {device: text.strip() for device, text in value.items()}


def _step(data: Any, where: str) -> ProcedureStep:
    fields = _Fields(data, where)
    problems_data = fields.data.get("problems")
    if not isinstance(problems_data, list) or not 1 <= len(problems_data) <= 3:
        raise CatalogError(f"{where}: field 'problems' must list 1 to 3 causes with fixes.")
    problems = tuple(
        Problem(cause=p.text("cause"), fix=p.text("fix"), words=p.words("words"))
        for p in (_Fields(item, f"{where}.problems[{i}]") for i, item in enumerate(problems_data))
    )
    choices_data = fields.data.get("choices") or []
    if not isinstance(choices_data, list) or len(choices_data) == 1:
        raise CatalogError(f"{where}: field 'choices' must list at least 2 answers, or be left out.")
    choices = tuple(_choice(item, f"{where}.choices[{i}]") for i, item in enumerate(choices_data))
    only_for = fields.data.get("only_for") or []
    if not isinstance(only_for, list) or set(only_for) - set(DEVICES):
        raise CatalogError(f"{where}: field 'only_for' must list devices from {', '.join(DEVICES)}.")
    step = ProcedureStep(
        id=fields.text("id"),
        text=fields.text("text"),
        plain=fields.text("plain"),
        problems=problems,
        devices=fields.device_texts("devices"),
        plain_devices=fields.device_texts("plain_devices"),
        only_for=tuple(only_for),
        choices=choices,
    )
    if step.plain == step.text:
        raise CatalogError(f"{where}: field 'plain' repeats 'text'; write a plainer, more detailed wording.")
    return step


def _choice(data: Any, where: str) -> StepChoice:
    fields = _Fields(data, where)
    label = fields.text("label")
    if len(label) > CHOICE_LABEL_MAX:
        raise CatalogError(f"{where}: field 'label' is a button; keep it within {CHOICE_LABEL_MAX} characters.")
    then = fields.text("then")
    intent = fields.data.get("intent")
    if intent is not None and intent not in CHOICE_INTENTS:
        raise CatalogError(f"{where}: field 'intent' must be one of {CHOICE_INTENTS} (the はい/いいえ it stands for).")
    choice = StepChoice(
        id=fields.text("id"),
        label=label,
        then=then,
        reply=fields.text("reply", optional=True),
        words=fields.words("words"),
        intent=intent,
    )
    if then == CHOICE_END and not choice.reply:
        raise CatalogError(f"{where}: a choice that ends the guide needs a 'reply' saying what to do instead.")
    return choice


def _ending(data: Any, where: str) -> Ending:
    fields = _Fields(data, where)
    return Ending(summary=fields.text("summary"), next=fields.text("next"), achieved=False)


def parse_procedure(data: Any, where: str, expected_id: str | None = None) -> Procedure:
    """Build a Procedure from parsed YAML, raising CatalogError that names the field and the fix."""
    fields = _Fields(data, where)
    procedure_id = fields.text("id")
    if expected_id is not None and procedure_id != expected_id:
        raise CatalogError(f"{where}: field 'id' is {procedure_id!r}; it must equal the file name {expected_id!r}.")
    if procedure_id not in PROCEDURE_INTENTS:
        raise CatalogError(f"{where}: field 'id' {procedure_id!r} is not a procedure intent.")
    title = fields.text("title")
    if len(title) > TITLE_MAX:
        raise CatalogError(f"{where}: field 'title' is longer than {TITLE_MAX} characters; shorten it.")
    steps_data = fields.data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise CatalogError(f"{where}: field 'steps' must list at least one step.")
    steps = tuple(_step(item, f"{where}: steps[{i}]") for i, item in enumerate(steps_data))
    ids = [step.id for step in steps]
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{where}: step ids repeat ({ids}); give each step its own id.")
    for step in steps:
        for choice in step.choices:
            if choice.then not in (CHOICE_NEXT, CHOICE_END) and choice.then not in ids:
                raise CatalogError(
                    f"{where}: steps.{step.id} choice {choice.id!r} goes to {choice.then!r}; "
                    f"use '{CHOICE_NEXT}', '{CHOICE_END}' or a step id of this file."
                )
    done = _Fields(fields.data.get("done"), f"{where}: done")
    done_devices_data = done.data.get("devices") or {}
    if not isinstance(done_devices_data, dict) or set(done_devices_data) - set(DEVICES):
        raise CatalogError(f"{where}: done.devices must map {', '.join(DEVICES)} to a summary and next.")
    done_devices = {
        device: _ending(item, f"{where}: done.devices.{device}") for device, item in done_devices_data.items()
    }
    help_keys = fields.texts("help")
    unknown = set(help_keys) - set(CONTACT_KEYS)
    if unknown:
        raise CatalogError(f"{where}: field 'help' names unknown contacts {sorted(unknown)}; use {CONTACT_KEYS}.")
    sources_data = fields.data.get("sources")
    if not isinstance(sources_data, list) or not sources_data:
        raise CatalogError(f"{where}: field 'sources' must list the public pages the content comes from.")
    sources = []
    for i, item in enumerate(sources_data):
        source = _Fields(item, f"{where}: sources[{i}]")
        url = source.text("url")
        if not url.startswith(("https://", "http://")):
            raise CatalogError(f"{where}: sources[{i}].url must be a web address.")
        sources.append(Source(url=url, title=source.text("title")))
    checked = fields.data.get("checked")
    if not isinstance(checked, datetime.date):
        raise CatalogError(f"{where}: field 'checked' must be a date like 2026-11-26.")
    asks_device = fields.data.get("asks_device", False)
    if not isinstance(asks_device, bool):
        raise CatalogError(f"{where}: field 'asks_device' must be true or false.")
    city_key = fields.data.get("city_key")
    if city_key is not None and not isinstance(city_key, str):
        raise CatalogError(f"{where}: field 'city_key' must be a key under online_services in config/city.yml.")
    return Procedure(
        id=procedure_id,
        title=title,
        summary=fields.text("summary"),
        for_whom=fields.text("for_whom"),
        prepare=fields.texts("prepare"),
        steps=steps,
        done_summary=done.text("summary"),
        done_next=done.text("next"),
        help=help_keys,
        sources=tuple(sources),
        checked=checked,
        urgent=fields.texts("urgent", optional=True),
        asks_device=asks_device,
        city_key=city_key,
        done_devices=done_devices,
    )


def load_catalog(directory: Path = PROCEDURES_DIR) -> dict[str, Procedure]:
    """Load and validate every procedure file; all 16 procedure intents must be present."""
    catalog: dict[str, Procedure] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise CatalogError(f"{path}: not valid YAML ({error}).") from error
        catalog[path.stem] = parse_procedure(data, str(path), expected_id=path.stem)
    missing = [intent for intent in PROCEDURE_INTENTS if intent not in catalog]
    if missing:
        raise CatalogError(f"{directory}: no file for {missing}; add one file per procedure intent.")
    return catalog


def all_texts(procedure: Procedure) -> Iterable[tuple[str, str]]:
    """Every resident-facing text of a procedure, with where it stands."""
    yield "title", procedure.title
    yield "summary", procedure.summary
    yield "for_whom", procedure.for_whom
    for i, text in enumerate(procedure.urgent):
        yield f"urgent[{i}]", text
    for i, text in enumerate(procedure.prepare):
        yield f"prepare[{i}]", text
    for step in procedure.steps:
        yield f"steps.{step.id}.text", step.text
        yield f"steps.{step.id}.plain", step.plain
        for device, text in step.devices.items():
            yield f"steps.{step.id}.devices.{device}", text
        for device, text in step.plain_devices.items():
            yield f"steps.{step.id}.plain_devices.{device}", text
        for i, problem in enumerate(step.problems):
            yield f"steps.{step.id}.problems[{i}].cause", problem.cause
            yield f"steps.{step.id}.problems[{i}].fix", problem.fix
        for choice in step.choices:
            if choice.reply:
                yield f"steps.{step.id}.choices.{choice.id}.reply", choice.reply
    yield "done.summary", procedure.done_summary
    yield "done.next", procedure.done_next
    for device, ending in procedure.done_devices.items():
        yield f"done.devices.{device}.summary", ending.summary
        yield f"done.devices.{device}.next", ending.next


def main(argv: list[str]) -> int:
    """`check`: validate the catalog, the glossary and the city configuration; `report`: print the wording."""
    if argv[:1] == ["report"] and len(argv) <= 2:
        from bot.procedure_report import report

        print(report(argv[1] if len(argv) == 2 else None))
        return 0
    if argv != ["check"]:
        print("usage: python -m bot.procedures check | report [iphone|android|pc]", file=sys.stderr)
        return 2
    from bot.city import CityError, load_city
    from bot.glossary import GlossaryError, load_glossary

    try:
        catalog = load_catalog()
        city = load_city()
        load_glossary()
        for procedure in catalog.values():
            if procedure.city_key and procedure.city_key not in city.online_services:
                raise CatalogError(
                    f"data/procedures/{procedure.id}.yml: city_key {procedure.city_key!r} is not under "
                    "online_services in config/city.yml; add it there."
                )
    except (CatalogError, CityError, GlossaryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"ok: {len(catalog)} procedures, {sum(len(p.steps) for p in catalog.values())} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
