"""The procedure catalog: one validated YAML file per procedure in data/procedures/.

A procedure may name a shared flow (data/procedures/flows/, e.g. ``flow: pittari``): the flow's
steps are written once, with slots the procedure fills (``fill``), and the procedure's own steps
(``at: <flow step id>`` or ``at: end``) and extra problems (``problems: {<flow step id>: [...]}``)
are put in at named points. The catalog holds every procedure expanded, so the guide sees plain steps.

``python -m bot.procedures check`` validates every file (with the glossary and the city
configuration) and exits non-zero naming the file, the field and the fix.
"""

from __future__ import annotations

import datetime
import re
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
    "childcare",
    "pregnancy",
    "nursing_care",
    "disaster_certificate",
    "moving",
    "convenience_store",
    "tax_filing",
    "car_ownership",
)
# The areas residents choose from in the menu, and the intents that find a procedure (a family of them).
AREAS = ("子育て", "介護", "災害", "車", "カード", "マイナポータル")
FLOWS_DIR = PROCEDURES_DIR / "flows"
FAMILY_MAX = 11  # buttons to choose within a family, with 「ほかの手続き」 and 「人と話したい」: 13 at most
FLOW_END = "end"
_SLOT = re.compile(r"\{([a-z_]+)\}")
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
    only_for: tuple[str, ...] = ()  # devices it can happen on; empty for all

    def applies_to(self, device: str | None) -> bool:
        """Whether a resident with this device can meet this cause (an iPhone user never hears of Android)."""
        return not self.only_for or device is None or device in self.only_for


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
    intent: str = ""  # the NLU intent that finds it (its family); the id when left out
    area: str | None = None
    names: tuple[str, ...] = ()  # how residents name it, matched in their words (longest match)
    flow: str | None = None
    bring: tuple[str, ...] = ()  # what to bring to the 窓口 when the city does not take it online
    # Where it is done instead when it is not online, for a procedure the city's 窓口 does not take (the car
    # procedures go to the prefecture's police or tax office): said instead of the city's desk.
    not_online: str | None = None
    label: str = ""  # its button when residents choose within a family; the title when left out

    @property
    def button(self) -> str:
        """The label of its button when a resident chooses within a family."""
        return self.label or self.title

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


def _problem(fields: _Fields) -> Problem:
    only_for = fields.data.get("only_for") or []
    if not isinstance(only_for, list) or set(only_for) - set(DEVICES):
        raise CatalogError(f"{fields.where}: field 'only_for' must list devices from {', '.join(DEVICES)}.")
    return Problem(fields.text("cause"), fields.text("fix"), fields.words("words"), tuple(only_for))


def _step(data: Any, where: str) -> ProcedureStep:
    fields = _Fields(data, where)
    problems_data = fields.data.get("problems")
    if not isinstance(problems_data, list) or not 1 <= len(problems_data) <= 3:
        raise CatalogError(f"{where}: field 'problems' must list 1 to 3 causes with fixes.")
    problems = tuple(_problem(_Fields(item, f"{where}.problems[{i}]")) for i, item in enumerate(problems_data))
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


@dataclass(frozen=True)
class Slot:
    """A blank in a flow's wording that each procedure fills (its search word, its documents)."""

    name: str
    about: str
    default: str | None = None  # filled with this when the procedure leaves it out
    optional: bool = False  # may be left out: the flow steps that need it are then left out too


@dataclass(frozen=True)
class Flow:
    """Steps shared by many procedures (applying on ぴったりサービス), written once with slots."""

    id: str
    title: str
    slots: Mapping[str, Slot]
    steps: tuple[dict[str, Any], ...]  # as written, with {slot} blanks; each may list `needs`
    prepare: tuple[str, ...] = ()
    done: dict[str, Any] | None = None
    sources: tuple[dict[str, Any], ...] = ()

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(str(step["id"]) for step in self.steps)


def parse_flow(data: Any, where: str, expected_id: str | None = None) -> Flow:
    """Build a Flow from parsed YAML; every {slot} its wording uses must be declared under `slots`."""
    fields = _Fields(data, where)
    flow_id = fields.text("id")
    if expected_id is not None and flow_id != expected_id:
        raise CatalogError(f"{where}: field 'id' is {flow_id!r}; it must equal the file name {expected_id!r}.")
    slots_data = fields.data.get("slots") or {}
    if not isinstance(slots_data, dict):
        raise CatalogError(f"{where}: field 'slots' must map slot names to {{staff_notes, default, optional}}.")
    slots = {}
    for name, item in slots_data.items():
        slot = _Fields(item, f"{where}: slots.{name}")
        slot.text("staff_notes")  # what the procedure fills in, for whoever writes the next file
        default = slot.text("default", optional=True) or None
        slots[str(name)] = Slot(str(name), slot.text("staff_notes"), default, bool(slot.data.get("optional", False)))
    steps_data = fields.data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise CatalogError(f"{where}: field 'steps' must list at least one step.")
    for i, item in enumerate(steps_data):
        step = _Fields(item, f"{where}: steps[{i}]")
        step.text("id")
        needs = step.data.get("needs") or []
        if not isinstance(needs, list) or set(needs) - set(slots):
            raise CatalogError(f"{where}: steps[{i}].needs must list slots declared under 'slots'.")
    used = set(_SLOT.findall(yaml.safe_dump(data, allow_unicode=True)))
    undeclared = used - set(slots)
    if undeclared:
        raise CatalogError(f"{where}: the wording uses {sorted(undeclared)} but 'slots' does not declare them.")
    done = fields.data.get("done")
    return Flow(
        id=flow_id,
        title=fields.text("title"),
        slots=slots,
        steps=tuple(steps_data),
        prepare=fields.texts("prepare", optional=True),
        done=done if isinstance(done, dict) else None,
        sources=tuple(fields.data.get("sources") or ()),
    )


def _filled(value: Any, fill: Mapping[str, str], where: str) -> Any:
    """The flow's wording with each {slot} replaced by the procedure's text for it."""
    if isinstance(value, str):

        def slot(match: re.Match[str]) -> str:
            if match.group(1) not in fill:
                raise CatalogError(f"{where}: the flow's wording needs 'fill.{match.group(1)}'; add it.")
            return fill[match.group(1)]

        return _SLOT.sub(slot, value)
    if isinstance(value, list):
        return [_filled(item, fill, where) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, fill, where) for key, item in value.items()}
    return value


def expand_flow(data: dict[str, Any], flow: Flow, where: str) -> dict[str, Any]:
    """The procedure as if written out in full: the flow's steps filled in, with its own steps and problems put in."""
    fill_data = data.get("fill") or {}
    if not isinstance(fill_data, dict) or not all(isinstance(v, str) and v.strip() for v in fill_data.values()):
        raise CatalogError(f"{where}: field 'fill' must map the flow's slots to texts.")
    unknown = set(fill_data) - set(flow.slots)
    if unknown:
        raise CatalogError(
            f"{where}: field 'fill' names {sorted(unknown)}, which flow {flow.id!r} has no slot for; "
            f"use {sorted(flow.slots)}."
        )
    fill = {name: slot.default for name, slot in flow.slots.items() if slot.default is not None}
    fill.update({str(k): str(v).strip() for k, v in fill_data.items()})
    missing = [name for name, slot in flow.slots.items() if name not in fill and not slot.optional]
    if missing:
        raise CatalogError(f"{where}: flow {flow.id!r} needs 'fill.{missing[0]}' ({flow.slots[missing[0]].about}).")
    own = data.get("steps") or []
    if not isinstance(own, list):
        raise CatalogError(f"{where}: field 'steps' must list the procedure's own steps, each with 'at'.")
    points = {*flow.step_ids, FLOW_END}
    for i, item in enumerate(own):
        if not isinstance(item, dict) or item.get("at") not in points:
            raise CatalogError(
                f"{where}: steps[{i}].at must name where the step goes in flow {flow.id!r}: "
                f"a flow step id (it goes just before) or '{FLOW_END}'; one of {sorted(points)}."
            )
    extra = data.get("problems") or {}
    if not isinstance(extra, dict) or set(extra) - set(flow.step_ids):
        raise CatalogError(
            f"{where}: field 'problems' must map step ids of flow {flow.id!r} ({', '.join(flow.step_ids)}) "
            "to the procedure's own problems for that step."
        )
    steps: list[Any] = []
    for raw in flow.steps:
        step_id = str(raw["id"])
        steps += [{k: v for k, v in item.items() if k != "at"} for item in own if item["at"] == step_id]
        if any(name not in fill for name in raw.get("needs") or ()):
            continue  # the procedure fills no such slot: the step does not apply to it
        step = _filled({k: v for k, v in raw.items() if k != "needs"}, fill, f"{where}: flow step {step_id}")
        if step_id in extra:
            added = extra[step_id]
            if not isinstance(added, list):
                raise CatalogError(f"{where}: problems.{step_id} must list causes with fixes.")
            step["problems"] = [*added, *(step.get("problems") or [])]
            if len(step["problems"]) > 3:
                raise CatalogError(
                    f"{where}: problems.{step_id} gives {len(step['problems'])} problems with the flow's own; "
                    "a step shows at most 3: keep the most likely."
                )
        steps.append(step)
    steps += [{k: v for k, v in item.items() if k != "at"} for item in own if item["at"] == FLOW_END]
    expanded = {key: value for key, value in data.items() if key not in ("fill", "problems")}
    expanded["steps"] = steps
    expanded["prepare"] = [*_filled(list(flow.prepare), fill, f"{where}: flow prepare"), *(data.get("prepare") or [])]
    if "done" not in data and flow.done is not None:
        expanded["done"] = _filled(flow.done, fill, f"{where}: flow done")
    urls = {source.get("url") for source in data.get("sources") or [] if isinstance(source, dict)}
    expanded["sources"] = [
        *(data.get("sources") or []),
        *(source for source in flow.sources if isinstance(source, dict) and source.get("url") not in urls),
    ]
    return expanded


def parse_procedure(
    data: Any, where: str, expected_id: str | None = None, flows: Mapping[str, Flow] | None = None
) -> Procedure:
    """Build a Procedure from parsed YAML, raising CatalogError that names the field and the fix."""
    fields = _Fields(data, where)
    procedure_id = fields.text("id")
    if expected_id is not None and procedure_id != expected_id:
        raise CatalogError(f"{where}: field 'id' is {procedure_id!r}; it must equal the file name {expected_id!r}.")
    intent = fields.data.get("intent", procedure_id)
    if intent not in PROCEDURE_INTENTS:
        raise CatalogError(
            f"{where}: field 'intent' {intent!r} is not a procedure intent; name the family intent that "
            f"finds this procedure, one of {', '.join(PROCEDURE_INTENTS)}."
        )
    area = fields.data.get("area")
    if area is not None and area not in AREAS:
        raise CatalogError(f"{where}: field 'area' must be one of {', '.join(AREAS)}.")
    names = fields.words("names")
    flow_id = fields.data.get("flow")
    if flow_id is not None:
        if flow_id not in (flows or {}):
            known = ", ".join(sorted(flows or {})) or "none loaded"
            raise CatalogError(f"{where}: field 'flow' {flow_id!r} has no file in data/procedures/flows/ ({known}).")
        fields = _Fields(expand_flow(fields.data, (flows or {})[flow_id], where), where)
    elif "fill" in fields.data or isinstance(fields.data.get("problems"), dict):
        raise CatalogError(f"{where}: fields 'fill' and 'problems' belong to a procedure with a 'flow'; add one.")
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
        intent=intent,
        area=area,
        names=names,
        flow=flow_id,
        bring=fields.texts("bring", optional=True),
        not_online=fields.text("not_online", optional=True) or None,
        label=_label(fields),
    )


def _label(fields: _Fields) -> str:
    label = fields.text("label", optional=True)
    if len(label) > CHOICE_LABEL_MAX:
        raise CatalogError(f"{fields.where}: field 'label' is a button; keep it within {CHOICE_LABEL_MAX} characters.")
    return label


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML ({error}).") from error


def load_flows(directory: Path = FLOWS_DIR) -> dict[str, Flow]:
    """Load and validate the shared flows (data/procedures/flows/*.yml)."""
    return {
        path.stem: parse_flow(_read(path), str(path), expected_id=path.stem) for path in sorted(directory.glob("*.yml"))
    }


def load_catalog(directory: Path = PROCEDURES_DIR) -> dict[str, Procedure]:
    """Load and validate every procedure file, flows expanded; every procedure intent must find one."""
    flows = load_flows(directory / "flows")
    catalog: dict[str, Procedure] = {}
    for path in sorted(directory.glob("*.yml")):
        catalog[path.stem] = parse_procedure(_read(path), str(path), expected_id=path.stem, flows=flows)
    missing = [intent for intent in PROCEDURE_INTENTS if not any(p.intent == intent for p in catalog.values())]
    if missing:
        raise CatalogError(f"{directory}: no file for {missing}; add one file per procedure intent.")
    _check_families(catalog, directory)
    return catalog


def _check_families(catalog: Mapping[str, Procedure], directory: Path) -> None:
    """Procedures sharing an intent are told apart by their names: each needs some, and no name is shared."""
    owner: dict[str, str] = {}
    for procedure in catalog.values():
        family = [p for p in catalog.values() if p.intent == procedure.intent]
        if len(family) > 1 and (not procedure.names or procedure.area is None):
            raise CatalogError(
                f"{directory}/{procedure.id}.yml: intent {procedure.intent!r} finds {len(family)} procedures; "
                "give this one 'area' and 'names' (words residents use for it) so the guide can tell them apart."
            )
        if len(family) > 1 and len(procedure.button) > CHOICE_LABEL_MAX:
            raise CatalogError(
                f"{directory}/{procedure.id}.yml: intent {procedure.intent!r} finds {len(family)} procedures, "
                f"chosen by button: give this one a 'label' of at most {CHOICE_LABEL_MAX} characters."
            )
        if len(family) > FAMILY_MAX:
            raise CatalogError(
                f"{directory}/{procedure.id}.yml: intent {procedure.intent!r} finds {len(family)} procedures; "
                f"a resident chooses among at most {FAMILY_MAX} buttons: move some to another intent."
            )
        for name in procedure.names:
            key = name_key(name)
            if owner.get(key, procedure.id) != procedure.id:
                raise CatalogError(
                    f"{directory}/{procedure.id}.yml: names {name!r} is also a name of {owner[key]}.yml; "
                    "keep a name in one procedure."
                )
            owner[key] = procedure.id


def name_key(text: str) -> str:
    """A name as compared, like a resident's words (bot.step_answers.normalized)."""
    from bot.step_answers import normalized

    return normalized(text)


def family(catalog: Mapping[str, Procedure], intent: str) -> list[Procedure]:
    """The procedures an intent finds, in catalog order."""
    return [procedure for procedure in catalog.values() if procedure.intent == intent]


def all_texts(procedure: Procedure) -> Iterable[tuple[str, str]]:
    """Every resident-facing text of a procedure, with where it stands."""
    yield "title", procedure.title
    if procedure.not_online:
        yield "not_online", procedure.not_online
    for i, text in enumerate(procedure.bring):
        yield f"bring[{i}]", text
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
    """`check`: validate the catalog, the FAQ answers, the glossary and the city; `report`: print the wording."""
    if argv[:1] == ["report"] and len(argv) <= 2:
        from bot.procedure_report import report

        print(report(argv[1] if len(argv) == 2 else None))
        return 0
    if argv != ["check"]:
        print("usage: python -m bot.procedures check | report [iphone|android|pc]", file=sys.stderr)
        return 2
    from bot.city import CityError, load_city
    from bot.faq import FaqError, load_faq
    from bot.glossary import GlossaryError, load_glossary

    try:
        catalog = load_catalog()
        city = load_city()
        load_glossary()
        answers = load_faq(procedures=catalog)
        for procedure in catalog.values():
            if procedure.city_key and procedure.city_key not in city.online_services:
                raise CatalogError(
                    f"data/procedures/{procedure.id}.yml: city_key {procedure.city_key!r} is not under "
                    "online_services in config/city.yml; add it there."
                )
    except (CatalogError, CityError, GlossaryError, FaqError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"ok: {len(catalog)} procedures, {sum(len(p.steps) for p in catalog.values())} steps, {len(answers)} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
