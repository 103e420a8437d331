"""Small fixes to Rasa 3.6.21 applied when the engine starts (Rasa Open Source 3.6 takes no more releases).

Seven patches, each for work Rasa repeats that can be done once, or on the last turns only, or not at all:

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
- The RulePolicy's `_prediction_states` builds a state for every action of the session, several times per
  turn, though no rule reaches further back than its own length (2 states in our rules). The replacement
  builds only the last (longest rule + 1) states, from the last turns, and gives the same prediction; why it is
  exact is in `rule_prediction_states` and `recent_rule_states`; tests/engine/test_long_conversation.py compares
  both on a recorded 70-message conversation.
- `DialogueStateTracker.applied_events` (twice a turn) walks every event to undo reverted ones, and
  `DialogueStateTracker.copy` (once per action) replays every event into a new tracker. For a tracker of simple
  events only (user and bot messages, actions, slots, featurization choices, session starts and restarts: ours)
  the replacements find the same answer with a few passes in C (`applied_events`, `copy_tracker`); any other
  tracker goes to Rasa's code. Compared with Rasa's on every prefix of the recorded conversation and of one with
  reverts, a form and a restart.
- `RemoteAction._action_call_format` sends every event of the session to the action server on every action.
  The replacement sends the events since the latest user message and the rest of the tracker's state as Rasa
  does. The contract: our actions read only `latest_message`, the slots and `current_slot_values()`; an action
  that needs the history must not be added without removing this patch (see `action_call_with_the_current_turn`).

Each patch records the SHA-256 of the source it replaces, and of the Rasa functions its reasoning relies on.
When Rasa's code differs (another Rasa version), the patch is not applied, the engine logs why and runs on Rasa's
own code, and tests/engine/test_patches.py fails, so whoever upgrades Rasa reads the new code before patching it
again. The patches are applied in the engine only (bot/engine/serve.py), never while a model is trained.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import itertools
import json
import logging
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Patch:
    """One replaced function: where it lives, the hash of the source it replaces, and the replacement.

    `relies_on` names other Rasa functions, with the hashes of their sources, whose behaviour the replacement's
    reasoning depends on (it calls them, or it gives the same answer only because they work as they do): the
    patch is applied only while they are unchanged too.
    """

    owner: type
    name: str
    replaced_sha256: str
    replacement: Callable[..., Any]
    relies_on: tuple[tuple[type, str, str], ...] = ()

    def current_sha256(self) -> str:
        """The SHA-256 of the source Rasa ships for the function now (before any patch)."""
        original = getattr(self.owner, f"_unpatched_{self.name}", getattr(self.owner, self.name))
        return source_sha256(original)

    def changed(self) -> list[str]:
        """The functions (the replaced one and those it relies on) whose source is not the one the patch read."""
        found = [] if self.current_sha256() == self.replaced_sha256 else [f"{self.owner.__name__}.{self.name}"]
        for owner, name, sha256 in self.relies_on:
            # Rasa's own function, also when another patch here replaced it.
            if source_sha256(getattr(owner, f"_unpatched_{name}", getattr(owner, name))) != sha256:
                found.append(f"{owner.__name__}.{name}")
        return found

    def matches(self) -> bool:
        """Whether Rasa's function, and every one the patch relies on, is still the one it was written against."""
        return not self.changed()

    def apply(self) -> bool:
        """Replace the function, once; return False (and leave Rasa alone) when its source changed."""
        if f"_unpatched_{self.name}" in self.owner.__dict__:
            return True
        changed = self.changed()
        if changed:
            logger.error(
                "patch.skipped: %s.%s is not patched, since %s is not the code the patch in bot/engine/patches.py "
                "was written against; running Rasa's own (slower) code. Read the new code and update the patch and "
                "its hashes.",
                self.owner.__name__,
                self.name,
                ", ".join(changed),
            )
            return False
        # A function inherited from a base class is replaced on this class only.
        original = self.owner.__dict__.get(self.name, getattr(self.owner, self.name))
        setattr(self.owner, f"_unpatched_{self.name}", original)
        # A static or class method stays one, so it is called the same way on the class and on instances.
        replacement: Any = self.replacement
        if isinstance(original, staticmethod | classmethod):
            replacement = type(original)(self.replacement)
        setattr(self.owner, self.name, replacement)
        return True


def source_sha256(function: Any) -> str:
    """The SHA-256 of a function's source as Rasa ships it."""
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


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


# The events whose effect on a replayed tracker `recent_rule_states` knows exactly (by exact class); any other
# kind in a conversation (reverts, loops, forms, follow-ups, entities added, pauses...) goes to Rasa's code.
_SIMPLE_EVENTS = ("UserUttered", "ActionExecuted", "BotUttered", "SlotSet", "DefinePrevUserUtteredFeaturization")
_SESSION_RESETS = ("SessionStarted", "Restarted")


@functools.cache
def _event_kinds() -> tuple[frozenset[type], frozenset[type]]:
    """The classes of `_SIMPLE_EVENTS` and of `_SESSION_RESETS`."""
    from rasa.shared.core import events

    return (
        frozenset(getattr(events, name) for name in _SIMPLE_EVENTS),
        frozenset(getattr(events, name) for name in _SESSION_RESETS),
    )


def longest_rule_states(lookup: dict[str, Any]) -> int:
    """The number of states in the longest rule (or rule-like prediction source) a RulePolicy's lookup holds."""
    longest = 0
    for table in ("rules", "rules_for_loop_unhappy_path", "rules_not_in_stories"):
        for key in lookup.get(table, ()):
            try:
                states = json.loads(key)
            except ValueError:
                continue  # a default source such as "predicting default action with intent restart"
            if isinstance(states, list):
                longest = max(longest, len(states))
    return longest


def _simple_events(tracker: Any) -> tuple[list[type], int] | None:
    """The classes of all the tracker's events and where its latest session starts, if all are simple ones.

    Simple: `_SIMPLE_EVENTS` and `_SESSION_RESETS`, by exact class. Then Rasa's `applied_events` is exactly the
    events after the latest session start or restart (no revert undoes any; without `ActiveLoop` events no loop
    execution is folded). Otherwise None. Two passes in C, whatever the length.
    """
    simple, resets = _event_kinds()
    kinds = list(map(type, tracker.events))
    if not set(kinds) <= simple | resets:
        return None
    start = 0
    for reset in resets:
        if reset in kinds:
            start = max(start, len(kinds) - kinds[::-1].index(reset))
    return kinds, start


def _simple_session(tracker: Any) -> tuple[list[Any], list[type]] | None:
    """The latest session's events (Rasa's applied events) and their classes, for a tracker of simple events."""
    found = _simple_events(tracker)
    if found is None:
        return None
    kinds, start = found
    return list(itertools.islice(tracker.events, start, None)), kinds[start:]


def applied_events(self: Any) -> list[Any]:
    """`DialogueStateTracker.applied_events`, without walking the session event by event when nothing is undone.

    Rasa walks every event of the tracker (twice, once for the loops' names) to undo reverted ones, on every
    call, twice a turn in the processor; for a tracker of simple events only (see `_simple_session`) the
    answer is the latest session's events, found with two passes in C. Any other tracker goes to Rasa's code.
    """
    session = _simple_session(self)
    if session is None:
        return type(self).__dict__["_unpatched_applied_events"](self)  # type: ignore[no-any-return]
    return session[0]


def copy_tracker(self: Any) -> Any:
    """`DialogueStateTracker.copy` without replaying every event, for a tracker of simple events.

    Rasa's copy replays all the tracker's events into a fresh tracker, twice a turn (once per action the
    processor runs). The events before the latest session start or restart leave nothing behind it (it resets
    the slots, the latest message, action and bot message, the follow-up action and the pause, which is a fresh
    tracker's state; a featurization choice sets a flag on its user message, already set); after it, a simple
    event sets one thing each: a slot, the latest message, action or bot message (a user message and an action
    also clear the follow-up action, which a restart sets). So the reset and, after it, the last event of each of
    those kinds, applied in their order, leave the copy in the state the replay leaves; the copy holds the same
    events. A fresh tracker adds no metadata to events (no model id), so applying them directly is what
    `update` does. Any other tracker goes to Rasa's code.
    """
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    found = _simple_events(self)
    timestamps = map(operator.attrgetter("timestamp"), self.events)
    if found is None or not all(map(operator.le, timestamps, itertools.repeat(math.inf))):
        return type(self).__dict__["_unpatched_copy"](self)  # Rasa's replay also stops at a NaN time
    kinds, start = found
    events = list(itertools.islice(self.events, max(start - 1, 0), None))
    kinds = kinds[max(start - 1, 0) :]
    # What each kept event sets (a slot by its name, the rest by class), and the last event setting it; found in C.
    last: dict[Any, int] = {
        kind: len(kinds) - 1 - kinds[::-1].index(kind)
        for kind in (UserUttered, ActionExecuted, BotUttered)
        if kind in kinds
    }
    slot_events = itertools.compress(range(len(kinds)), map(operator.is_, kinds, itertools.repeat(SlotSet)))
    last.update({events[index].key: index for index in slot_events})
    if start:
        last[kinds[0]] = 0  # the latest session start or restart
    copied = self.init_copy()
    for index in sorted(last.values()):
        events[index].apply_to(copied)
    copied.events.extend(self.events)
    return copied


def recent_rule_states(tracker: Any, domain: Any, count: int) -> list[dict[str, Any]] | None:
    """The last `count` of `tracker.past_states(domain)`, computed from the last turns only, or None.

    Rasa's states come from replaying the session's applied events into a fresh tracker and taking the state
    before every action and at the end. For a session of user messages, actions, bot messages, slot events
    and featurization choices only (anything else returns None), the tracker before the `count - 1`-th last
    action is the same when the replay starts at the user message before it (which sets `latest_message`
    itself) from a tracker holding what the earlier events left behind that a state reads: the last value of
    each slot and the latest action. A featurization choice applies to the latest user message only, so the
    ones before that user message touch no message the window reads.
    """
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    session = _simple_session(tracker)
    if session is None:
        return None
    applied, kinds = session
    first_action, actions = len(applied), 0
    if count > 1:
        for index in range(len(kinds) - 1, -1, -1):
            if kinds[index] is ActionExecuted:
                actions += 1
                if actions == count - 1:
                    first_action = index
                    break
        else:
            return None  # a short session, with fewer states than asked for: Rasa's own code is as cheap
    replay_from = 0  # no user message before the window: the whole session is replayed, as Rasa does
    for index in range(first_action - 1, -1, -1):
        if kinds[index] is UserUttered:
            replay_from = index
            break
    # The last value of each slot, picked out in C: the slot events are a fraction of the session.
    is_slot_event = map(operator.is_, kinds[:replay_from], itertools.repeat(SlotSet))
    left_behind = {event.key: event for event in itertools.compress(applied[:replay_from], is_slot_event)}
    latest_action = None
    for index in range(replay_from - 1, -1, -1):
        if kinds[index] is ActionExecuted:
            latest_action = applied[index]
            break
    replayed = tracker.init_copy()
    for event in [*left_behind.values(), *([latest_action] if latest_action else [])]:
        replayed.update(event)
    states = []
    for index in range(replay_from, len(applied)):
        event = applied[index]
        if index >= first_action and type(event) is ActionExecuted:
            states.append(domain._clean_state(domain.get_active_state(replayed)))
        replayed.update(event)
    states.append(domain._clean_state(domain.get_active_state(replayed)))
    return states


def rule_prediction_states(
    self: Any,
    tracker: Any,
    domain: Any,
    use_text_for_last_user_input: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """`Policy._prediction_states` for the RulePolicy: only the states its longest rule can reach.

    Rasa builds a state for every action of the session, several times per turn, and the RulePolicy matches
    its rules against the last ones: a rule of n states never looks further back than n states (a longer
    history is applicable by definition in `_is_rule_applicable`). With the last n + 1 states the same rules
    match, the same rule is chosen, and when none does the fallback's prediction source (the states' key) is
    longer than any rule's, so it is in no table either; the prediction is the same. The RulePolicy's featurizer
    keeps the whole history (max_history None) and ignores no turns (the policy supports rule data), which
    this relies on; another featurizer, or a session with events this does not know, goes to Rasa's code.
    """
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer

    featurizer = self.featurizer
    rasas = type(self).__dict__["_unpatched__prediction_states"]
    if type(featurizer) is not MaxHistoryTrackerFeaturizer or featurizer.max_history is not None:
        return rasas(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    window = self.__dict__.get("_recent_states_window")
    if window is None or window[0] is not self.lookup:  # worked out once per lookup (about 150 JSON keys)
        window = self._recent_states_window = (self.lookup, longest_rule_states(self.lookup) + 1)
    states = recent_rule_states(tracker, domain, window[1])
    if states is None:
        return rasas(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    featurizer._choose_last_user_input([states], use_text_for_last_user_input)
    return states


def action_call_with_the_current_turn(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """`RemoteAction._action_call_format` sending only the events since the latest user message.

    Rasa sends every event of the session to the action server on every action (and the action server parses
    them all), which grows with the conversation. The rest of the tracker's state (`slots`, `latest_message`,
    `sender_id`, `paused`, `followup_action`, `active_loop`, `latest_action`, `latest_action_name`,
    `latest_event_time`, `latest_input_channel`) is Rasa's, computed from the whole tracker as before.

    The contract this relies on: our actions (actions/guidance.py) read only `latest_message`, the slots and
    `current_slot_values()`. An action that reads the history (`tracker.events`, `applied_events()`,
    `latest_bot_utterance()`, form validation of slots set earlier) must not be added while this patch is in;
    remove it from `engine_patches` first.
    """
    import rasa
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import EventVerbosity

    tracker_state = tracker.current_state(EventVerbosity.NONE)
    current_turn: list[Any] = []
    for event in reversed(tracker.events):
        current_turn.append(event)
        if isinstance(event, UserUttered):
            break  # without a user message yet, every event goes, as Rasa sends them
    tracker_state["events"] = [event.as_dict() for event in reversed(current_turn)]
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


# What `rule_prediction_states` relies on, by class and function: the SHA-256 of each one's source in Rasa
# 3.6.21 (how Rasa builds a state history, what the events it replays change, how the RulePolicy matches rules).
RULE_STATES_RELY_ON: dict[str, str] = {
    "MaxHistoryTrackerFeaturizer.prediction_states": "451caf09a389e8719ad4ee38eb97dfd10b4743cd3928f1f9569779394fd3462e",
    "TrackerFeaturizer._create_states": "2fed265eee3bfa38bef58c41b618f4bc7cb68219a91c7b2b2488603403c5e86a",
    "TrackerFeaturizer._choose_last_user_input": "0a4f5a414bf19fbbb2d8c4b0ce47e65ccdcb50bfea656b87ed4b7fa9f14a9bfa",
    "TrackerFeaturizer._remove_user_text_if_intent": "b0dc0d2430e6b41e6ff8dd5306ef06ed9a7992c707e34ef3a65f03b19102260f",
    "DialogueStateTracker.past_states": "5463eefb5c69d27f82cdc7eca84e23b4b82851e9a5ff575bd02447d4d987103b",
    "Domain.states_for_tracker_history": "035111ce73ac90ba50e143abf556f924af07d9f452893f5a96a62895d44df8b7",
    "Domain.get_active_state": "5a4a505743120441541f40f1fdf65ea109983e3f7274610e47ca340167309418",
    "Domain._clean_state": "8923165d0e7231abdaa449936c2d25e0e86a320eb7f2d0f17b931e2c08454afe",
    "Domain._get_user_sub_state": "d7c9322b9abf14278aa1ae93e6cd9eabe4a891e7ae1d8297428e17f56213c842",
    "Domain._get_slots_sub_state": "bc25e220e41b89bada70220ac44bb198b8c9e56b2ddc31720b09fe10dd29f963",
    "Domain._get_prev_action_sub_state": "ded6728b5c4b690236823d46279b380167100fa9a93c555827521b298e38a490",
    "Domain._get_active_loop_sub_state": "c2cc522070c01580a8de07be83db645d99d47275a703c861205aeccff9e95920",
    "DialogueStateTracker.generate_all_prior_trackers": (
        "a1f6954347b52649a7b1054741338997d2369197d91acb2eab7f6b11d3855ed1"
    ),
    "DialogueStateTracker.applied_events": "764d5065ea9997d613c1984d9357370f9ae32d31ca21346086f16c54f0487aae",
    "DialogueStateTracker.init_copy": "429fcd2243b9e0e1a6e8ffc3057a4f2fb4ecbb677055c644129bc65b6cd32b75",
    "DialogueStateTracker.update": "b55e6b1c724fa6e916399f81ea51dd5600ad6702f0b172923a83ca84bc23c668",
    "DialogueStateTracker._set_slot": "c3c88baddc3c5ea6c37900585f73c4485426770cea859f0c9e07d236795c1d7f",
    "DialogueStateTracker.set_latest_action": "1d9d538f40ff5cc08bc1b386685aae05e76738d7f0772ae2ab4568838655b697",
    "UserUttered.apply_to": "617d53d3802952b7726878c3a4fece410c19bf4fbabb6a5115db8f1ffc646d0e",
    "ActionExecuted.apply_to": "c12dc00965af1844232bba17101ddc78e505682cd1180b99cd4e2cdf5ceb7445",
    "SlotSet.apply_to": "6de252a6d862ee478f9109b43fff24dc228af1fa0d4f21031fa9fcd7f142dcce",
    "BotUttered.apply_to": "2568769ad3acbb8ee26fa39e992cc21f9f3144116da75b3cf40bfbe4d754c1eb",
    "DefinePrevUserUtteredFeaturization.apply_to": "260e4a37a1056d9d2a40dd0b02a4117baddc23b1cf019a6a213c5e6b26bf8b67",
    "SessionStarted.apply_to": "3194704944b4f94556596cd7e9c21dbca61c23da600d87c501084bcd6f4a120b",
    "Restarted.apply_to": "ec4d9c43054a93035522632be669efa98038ec2d178638c0c4c550afe1078829",
    "RulePolicy._predict": "f5182d8a10639e14d2643795210767a17fc4c8b5c2852b946f41c6c9f1a8a4e0",
    "RulePolicy._find_action_from_rules": "be6da6ee0f5429bd9bbded9f22186f3729469e5b392949493fd34a00ef9531d9",
    "RulePolicy._get_possible_keys": "2915fd81711e194c6d667728e00bd0e51e9c1c2791a0be14c55f0ef9938f9936",
    "RulePolicy._is_rule_applicable": "64a108b016b46e573d6020b755a6036439dc207a364b45c9ea5dcb0f18dc7068",
    "RulePolicy._rule_prediction": "90316ddf7eb4b3140d45f21e51ca072c212ba28329077d99cb618191456f273f",
}

# What `copy_tracker` relies on: how Rasa's copy replays events, what a fresh tracker and a reset hold, and what
# the simple events change.
COPY_RELIES_ON: dict[str, str] = {
    "DialogueStateTracker.travel_back_in_time": "09d16f28f007492f653b504cf2b6064dc453444c524799378609a85b04efd632",
    "DialogueStateTracker.__init__": "8f39eb22462aa62b140d9da1f6db986cbc76383d8f7cc4e3dc7664fa7d84cb2d",
    "DialogueStateTracker.init_copy": "429fcd2243b9e0e1a6e8ffc3057a4f2fb4ecbb677055c644129bc65b6cd32b75",
    "DialogueStateTracker.update": "b55e6b1c724fa6e916399f81ea51dd5600ad6702f0b172923a83ca84bc23c668",
    "DialogueStateTracker._reset": "190858eaf560a0c0a86f45dca86498f8a9fada57ddb6c7dd1e68648c9779e103",
    "DialogueStateTracker._reset_slots": "684656f977ba992830ff8abf147a7ad6de850ccac15249e7daeb6d87ab5cb058",
    "DialogueStateTracker._set_slot": "c3c88baddc3c5ea6c37900585f73c4485426770cea859f0c9e07d236795c1d7f",
    "DialogueStateTracker.set_latest_action": "1d9d538f40ff5cc08bc1b386685aae05e76738d7f0772ae2ab4568838655b697",
    "DialogueStateTracker.trigger_followup_action": "312ce0b846bfafa7da113dd53d48106a01c6d941ebff6d10748596faee045600",
    "DialogueStateTracker.clear_followup_action": "7e7f684fcc7b1a130ff9c36fa627de3c452b71124f0bb988cd66d0cdfa507e7e",
    "UserUttered.apply_to": "617d53d3802952b7726878c3a4fece410c19bf4fbabb6a5115db8f1ffc646d0e",
    "ActionExecuted.apply_to": "c12dc00965af1844232bba17101ddc78e505682cd1180b99cd4e2cdf5ceb7445",
    "SlotSet.apply_to": "6de252a6d862ee478f9109b43fff24dc228af1fa0d4f21031fa9fcd7f142dcce",
    "BotUttered.apply_to": "2568769ad3acbb8ee26fa39e992cc21f9f3144116da75b3cf40bfbe4d754c1eb",
    "DefinePrevUserUtteredFeaturization.apply_to": "260e4a37a1056d9d2a40dd0b02a4117baddc23b1cf019a6a213c5e6b26bf8b67",
    "SessionStarted.apply_to": "3194704944b4f94556596cd7e9c21dbca61c23da600d87c501084bcd6f4a120b",
    "Restarted.apply_to": "ec4d9c43054a93035522632be669efa98038ec2d178638c0c4c550afe1078829",
}

# What `action_call_with_the_current_turn` relies on (the tracker's state, which it sends as Rasa does).
ACTION_CALL_RELIES_ON: dict[str, str] = {
    "DialogueStateTracker.current_state": "a9f1526ceddf7a2871ca65f0f664bec9b06546942cdb37ff020e87747608244c",
    "DialogueStateTracker._events_for_verbosity": "29302d57e28afac942637496c6eab1ece7948a5991c8c45e858d439da4538268",
}


def relied_on(table: dict[str, str]) -> tuple[tuple[type, str, str], ...]:
    """The (class, function name, SHA-256) of each "Class.function" in `table`, the classes found in Rasa."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core import events
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    classes: dict[str, type] = {
        owner.__name__: owner
        for owner in (MaxHistoryTrackerFeaturizer, TrackerFeaturizer, RulePolicy, Domain, DialogueStateTracker)
    }
    relied: list[tuple[type, str, str]] = []
    for qualified_name, sha256 in table.items():
        owner_name, name = qualified_name.split(".")
        relied.append((classes.get(owner_name) or getattr(events, owner_name), name, sha256))
    return tuple(relied)


def engine_patches() -> list[Patch]:
    """The patches the engine applies at start (imports Rasa, so call it only in the engine)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
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
        Patch(
            DialogueStateTracker,
            "applied_events",
            "764d5065ea9997d613c1984d9357370f9ae32d31ca21346086f16c54f0487aae",
            applied_events,
        ),
        Patch(
            DialogueStateTracker,
            "copy",
            "dfa48dca9f355ad1b42c625bc6f6370bafe83514ed17a77904ed64c67bf07285",
            copy_tracker,
            relies_on=relied_on(COPY_RELIES_ON),
        ),
        Patch(
            RulePolicy,
            "_prediction_states",  # Policy's, replaced for the RulePolicy only
            "ed9b82bed2f26ad7a0de61709e02339983912bece614191089c3adba60cf1452",
            rule_prediction_states,
            relies_on=relied_on(RULE_STATES_RELY_ON),
        ),
        Patch(
            RemoteAction,
            "_action_call_format",
            "428795b944f22edba142d278ec47a30098975b01463ba337ec447dade52a0492",
            action_call_with_the_current_turn,
            relies_on=relied_on(ACTION_CALL_RELIES_ON),
        ),
    ]


def apply_all() -> int:
    """Apply every patch whose target is unchanged; return how many were applied."""
    return sum(patch.apply() for patch in engine_patches())
