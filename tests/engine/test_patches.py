"""The start-up patch to Rasa: it replaces only the code it was written for, and validates exactly as Rasa does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.engine import patches

VALID_ANSWERS = [
    {"events": [], "responses": [{"text": "マイナポータルを開いてください。"}]},
    {"events": [{"event": "slot", "name": "step", "value": 2}], "responses": []},
    {},
]
INVALID_ANSWERS = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "slot", "responses": []},
    {"events": [], "responses": ["テキストだけ"]},
    [],
]


@pytest.fixture
def patched() -> Iterator[None]:
    applied = patches.apply_all()
    assert applied == len(patches.engine_patches())
    yield


def test_every_patch_still_matches_the_rasa_code_it_replaces_and_relies_on() -> None:
    # When this fails, Rasa's code changed: read the new functions, then update the patch and its hashes.
    for patch in patches.engine_patches():
        assert patch.current_sha256() == patch.replaced_sha256, f"{patch.owner.__name__}.{patch.name} changed"
        assert patch.changed() == [], f"{patch.owner.__name__}.{patch.name} relies on changed code"


def test_a_patch_for_other_code_leaves_rasa_alone() -> None:
    class Action:
        def check(self) -> str:
            return "rasa"

    stale = patches.Patch(Action, "check", "0" * 64, lambda self: "patched")
    assert not stale.apply()
    assert Action().check() == "rasa"


def test_a_patch_relying_on_changed_code_leaves_rasa_alone() -> None:
    class Action:
        def check(self) -> str:
            return "rasa"

        def helper(self) -> str:
            return "changed since the patch was written"

    current = patches.source_sha256(Action.check)
    stale = patches.Patch(Action, "check", current, lambda self: "patched", relies_on=((Action, "helper", "0" * 64),))
    assert stale.changed() == ["Action.helper"]
    assert not stale.apply()
    assert Action().check() == "rasa"


def test_an_inherited_function_is_replaced_on_the_subclass_only() -> None:
    class Policy:
        def states(self) -> str:
            return "rasa"

    class RulePolicy(Policy):
        pass

    patch = patches.Patch(RulePolicy, "states", patches.source_sha256(Policy.states), lambda self: "patched")
    assert patch.apply()
    assert (RulePolicy().states(), Policy().states()) == ("patched", "rasa")
    assert patch.current_sha256() == patch.replaced_sha256  # still read from Rasa's function


def action() -> RemoteAction:
    return RemoteAction("action_guide_step", None)


@pytest.mark.parametrize("answer", VALID_ANSWERS)
def test_a_valid_action_answer_passes(patched: None, answer: dict[str, Any]) -> None:
    assert RemoteAction._validate_action_result is patches.validate_action_result
    assert action()._validate_action_result(answer)


@pytest.mark.parametrize("answer", INVALID_ANSWERS)
def test_an_invalid_action_answer_fails_with_rasas_own_error(patched: None, answer: Any) -> None:
    unpatched = RemoteAction._unpatched__validate_action_result  # type: ignore[attr-defined]
    with pytest.raises(jsonschema.ValidationError) as rasas:
        unpatched(action(), answer)
    with pytest.raises(jsonschema.ValidationError) as ours:
        action()._validate_action_result(answer)
    assert ours.value.message == rasas.value.message
    assert list(ours.value.path) == list(rasas.value.path)


def test_the_schema_is_checked_and_the_validator_built_once(patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    patches._validators.clear()
    checks = []
    original = jsonschema.Draft202012Validator.check_schema
    for validator_class in set(jsonschema.validators._VALIDATORS.values()):
        monkeypatch.setattr(
            validator_class, "check_schema", classmethod(lambda cls, schema: checks.append(schema) or original(schema))
        )
    for _ in range(5):
        action()._validate_action_result(VALID_ANSWERS[0])
    assert len(checks) == 1


def every_event_class() -> list[type]:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    return list(all_subclasses(Event))


@pytest.mark.parametrize("type_name", sorted({event_class.type_name for event_class in every_event_class()}))
def test_event_types_resolve_to_the_class_rasa_finds(patched: None, type_name: str) -> None:
    from rasa.shared.core.events import Event

    unpatched = Event._unpatched_resolve_by_type  # type: ignore[attr-defined]
    assert Event.resolve_by_type(type_name) is unpatched(type_name)


def test_unknown_event_types_are_treated_as_rasa_treats_them(patched: None) -> None:
    from rasa.shared.core.events import ActionExecuted, Event

    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_an_event_class_imported_after_the_first_lookup_is_found(patched: None) -> None:
    from rasa.shared.core.events import Event, SlotSet

    Event.resolve_by_type("slot")

    class ProcedureStepReached(SlotSet):
        type_name = "procedure_step_reached"

    assert Event.resolve_by_type("procedure_step_reached") is ProcedureStepReached


@pytest.mark.parametrize(("predict_example", "finetune"), [(None, False), ("example", True)])
def test_a_model_loaded_to_train_further_is_loaded_by_rasas_own_code(
    patched: None, monkeypatch: pytest.MonkeyPatch, predict_example: str | None, finetune: bool
) -> None:
    # The shortcut builds the network with a prediction, which leaves out what only training builds.
    from rasa.utils.tensorflow.models import RasaModel

    class ModelOfOneComponent(RasaModel):
        pass

    monkeypatch.setattr(RasaModel, "_unpatched_load", classmethod(lambda cls, *args, **kwargs: (cls, args)))
    loaded = ModelOfOneComponent.load("weights.tf_model", "training example", predict_example, finetune)
    assert loaded == (ModelOfOneComponent, ("weights.tf_model", "training example", predict_example, finetune))
