"""Small fixes to Rasa 3.6.21 applied when the engine starts (Rasa Open Source 3.6 takes no more releases).

Three patches, each for work Rasa repeats that can be done once or not at all:

- `RemoteAction._validate_action_result` checks every answer of the action server with `jsonschema.validate`,
  which builds a validator and checks the schema itself again on every call — about 20 ms a call on this
  project's machine, 40 % of the engine's CPU under load (bench/results/profile_before.json). The replacement
  validates against the same schema with a validator built once per class and raises the same
  `ValidationError` with the same message.
- `Event.resolve_by_type` walks every subclass of `Event` (with `inspect.isabstract` on each) for every event
  read back from the tracker store, every turn — 7 % of the engine's CPU once the first patch is in
  (bench/results/profile_validator_only.json). The replacement looks the type name up in a table built from the same
  walk, and walks again when a name is not in it (an event class imported later), so it finds what Rasa finds.
- `RasaModel.load` (DIET, at every engine start) traces and runs a whole training step to build the network
  before loading the trained weights: 85 % of an engine's start-up CPU. The replacement builds it with one
  prediction instead. Loaded both ways, the model parsed the first 120 sentences of tests/data/nlu_holdout.yml
  to the same intents, entities and confidences (no difference at all); loading took 8.2 s of CPU instead of
  46.6 s (load average 7-8). A model loaded to be trained further still goes through Rasa's code.

Each patch records the SHA-256 of the source it replaces. When Rasa's code differs (another Rasa version),
the patch is not applied, the engine logs why and runs on Rasa's own code, and tests/engine/test_patches.py
fails, so whoever upgrades Rasa reads the new code before patching it again.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Patch:
    """One replaced function: where it lives, the hash of the source it replaces, and the replacement."""

    owner: type
    name: str
    replaced_sha256: str
    replacement: Callable[..., Any]

    def current_sha256(self) -> str:
        """The SHA-256 of the source Rasa ships for the function now (before any patch)."""
        original = getattr(self.owner, f"_unpatched_{self.name}", getattr(self.owner, self.name))
        return hashlib.sha256(inspect.getsource(original).encode()).hexdigest()

    def matches(self) -> bool:
        """Whether Rasa's function is still the one this patch was written against."""
        return self.current_sha256() == self.replaced_sha256

    def apply(self) -> bool:
        """Replace the function, once; return False (and leave Rasa alone) when its source changed."""
        if hasattr(self.owner, f"_unpatched_{self.name}"):
            return True
        if not self.matches():
            logger.error(
                "patch.skipped: %s.%s is not the code the patch in bot/engine/patches.py replaces; running Rasa's "
                "own (slower) code. Read the new code and update the patch and its hash.",
                self.owner.__name__,
                self.name,
            )
            return False
        original = self.owner.__dict__[self.name]
        setattr(self.owner, f"_unpatched_{self.name}", original)
        # A static or class method stays one, so it is called the same way on the class and on instances.
        replacement: Any = self.replacement
        if isinstance(original, staticmethod | classmethod):
            replacement = type(original)(self.replacement)
        setattr(self.owner, self.name, replacement)
        return True


# The validator for each RemoteAction class's answer schema, built on first use and kept.
_validators: dict[type, Any] = {}


def _action_answer_validator(action_class: type) -> Any:
    """The jsonschema validator for a remote action's answers, built once (the schema checked once too)."""
    validator = _validators.get(action_class)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = action_class.action_response_format_spec()  # type: ignore[attr-defined]
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        validator = _validators[action_class] = validator_class(schema)
    return validator


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` with a validator built once: same checks, same error."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    # jsonschema.validate reports the best match among the errors; so does this.
    error = best_match(_action_answer_validator(type(self)).iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


# Event classes by their type name, from the same walk over Event's subclasses that Rasa makes on every call.
_event_classes: dict[str, type] = {}


def resolve_event_type(type_name: str, default: type | None = None) -> type | None:
    """`Event.resolve_by_type` from a table: the class Rasa's walk finds first, `default`, or Rasa's ValueError."""
    found = _event_classes.get(type_name)
    if found is None:
        from rasa.shared.core.events import Event
        from rasa.shared.utils.common import all_subclasses

        for event_class in reversed(all_subclasses(Event)):
            # Reversed, so that the first class of the walk wins when two share a name, as in Rasa's loop.
            _event_classes[event_class.type_name] = event_class
        found = _event_classes.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def load_model_without_a_training_step(
    model_class: type,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`RasaModel.load` building the network with one prediction instead of one training step.

    Rasa runs `fit` on one example so that every layer has its weights before they are loaded; tracing that
    training step (loss, gradients, optimizer) is 85 % of an engine's start-up CPU (a py-spy profile of one
    start, about 50 s of CPU on this machine). A prediction builds every layer a prediction uses; the trained
    weights are then loaded into them, the labels are embedded again with those weights, and Rasa's own warm-up
    prediction traces the prediction graph as before. Fine-tuning, and a load without a prediction example,
    keep Rasa's code, since they train afterwards.
    """
    from rasa.utils.tensorflow.models import RasaModel
    from rasa.utils.train_utils import create_data_generators

    if finetune_mode or predict_data_example is None:
        rasas_load = RasaModel.__dict__["_unpatched_load"].__func__
        return rasas_load(
            model_class, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
        )
    model = model_class(*args, **kwargs)
    batches, _ = create_data_generators(model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False)
    model._training = False
    model.prepare_for_predict()
    model.predict_step(batches[0][0])  # eagerly: builds the layers, traces nothing
    status = model.load_weights(model_file_name)
    if status is not None:
        status.expect_partial()  # the optimizer's state in the checkpoint is for training only
    model.prepared_for_prediction = False  # embed the labels again, with the trained weights
    model.run_inference(predict_data_example)
    return model


def engine_patches() -> list[Patch]:
    """The patches the engine applies at start (imports Rasa, so call it only in the engine)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event
    from rasa.utils.tensorflow.models import RasaModel

    return [
        Patch(
            RemoteAction,
            "_validate_action_result",
            "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
            validate_action_result,
        ),
        Patch(
            Event,
            "resolve_by_type",
            "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
            resolve_event_type,
        ),
        Patch(
            RasaModel,
            "load",
            "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292",
            load_model_without_a_training_step,
        ),
    ]


def apply_all() -> int:
    """Apply every patch whose target is unchanged; return how many were applied."""
    return sum(patch.apply() for patch in engine_patches())
