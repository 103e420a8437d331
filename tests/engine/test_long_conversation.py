"""On a recorded long conversation, the patched rule policy and action call give exactly what Rasa's code gives.

tests/data/long_conversation.json (scripts/record_long_conversation.py, recorded with Rasa's unpatched code) holds
70 resident messages in two sessions: procedures, steps done and failed, slot changes, nlu_fallback. The
conversation is replayed event by event; before every action the trained RulePolicy of models/ predicts with
Rasa's states and with the patch's, and the action server's request is built both ways and run by our actions.
"""

from __future__ import annotations

import asyncio
import copy
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import ActionExecutor

from bot.engine import patches

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "data" / "long_conversation.json"
SENDER = "long-conversation"
RULE_POLICY = "train_RulePolicy0"


@pytest.fixture(scope="module", autouse=True)
def patched() -> None:
    assert patches.apply_all() == len(patches.engine_patches())


def recorded_events() -> list[Event]:
    return [Event.from_parameters(data) for data in json.loads(RECORDED.read_text(encoding="utf-8"))]


def domain_with_every_slot_featurized() -> Domain:
    # Our slots do not influence the conversation; with this domain every state carries them, so the slot values
    # the patch carries over from before its window are checked too.
    data = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for slot in data["slots"].values():
        slot["influence_conversation"] = True
        if slot["type"] == "float":
            slot.update(min_value=0, max_value=10)
    return Domain.from_dict(data)


DOMAINS = {"ours": lambda: Domain.load(str(ROOT / "domain.yml")), "slots featurized": domain_with_every_slot_featurized}


@pytest.fixture(scope="module")
def trained_rule_policy(tmp_path_factory: pytest.TempPathFactory) -> RulePolicy:
    """The RulePolicy of the model in models/, loaded alone (its three files, not the whole model)."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/; run `make model` (make test does it)")
    storage = tmp_path_factory.mktemp("model")
    with tarfile.open(models[-1]) as archive:
        for member in archive:
            if member.isfile() and member.name.startswith(f"components/{RULE_POLICY}/"):
                (storage / RULE_POLICY).mkdir(exist_ok=True)
                (storage / RULE_POLICY / Path(member.name).name).write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    (ours,) = [policy for policy in yaml.safe_load((ROOT / "config.yml").read_text())["policies"]]
    config = {**RulePolicy.get_default_config(), **{key: value for key, value in ours.items() if key != "name"}}
    context = ExecutionContext(GraphSchema({}), "test")
    return RulePolicy.load(config, LocalModelStorage(storage), Resource(RULE_POLICY), context)


def without_some_rules(policy: RulePolicy) -> RulePolicy:
    # Rules for greetings and thanks taken out, so some turns match no rule and the policy predicts its fallback.
    fewer = copy.copy(policy)
    fewer.lookup = {**policy.lookup, "rules": {key: action for key, action in policy.lookup["rules"].items()
                                               if '"greet"' not in key and '"thanks"' not in key}}  # fmt: skip
    return fewer


@pytest.fixture(params=["all rules", "some rules left out"])
def rule_policy(request: pytest.FixtureRequest, trained_rule_policy: RulePolicy) -> tuple[RulePolicy, bool]:
    """A RulePolicy, and whether it holds every trained rule."""
    if request.param == "all rules":
        return trained_rule_policy, True
    return without_some_rules(trained_rule_policy), False


@pytest.fixture(params=sorted(DOMAINS))
def domain(request: pytest.FixtureRequest) -> Domain:
    return DOMAINS[request.param]()


def before_each_action(domain: Domain) -> Iterator[tuple[DialogueStateTracker, ActionExecuted]]:
    """The conversation's tracker just before each of its actions, with that action (the tracker is reused)."""
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in recorded_events():
        if isinstance(event, ActionExecuted):
            yield tracker, event
        tracker.update(event)


def rasas(owner: type, name: str) -> Any:
    """Put Rasa's own function back for the duration of a `with`."""
    return mock.patch.object(owner, name, getattr(owner, f"_unpatched_{name}"))


def test_the_recording_is_long_and_varied() -> None:
    events = recorded_events()
    intents = [event.intent_name for event in events if isinstance(event, UserUttered)]
    assert len(intents) >= 60
    assert "nlu_fallback" in intents
    assert sum(event.type_name == "session_started" for event in events) == 2
    assert sum(event.type_name == "slot" for event in events) > 100


def test_the_rule_policy_predicts_exactly_what_rasas_code_predicts(
    rule_policy: tuple[RulePolicy, bool], domain: Domain
) -> None:
    policy, every_rule = rule_policy
    compared = windowed = no_rule = 0
    for tracker, action in before_each_action(domain):
        with rasas(RulePolicy, "_prediction_states"):
            rasas_states = policy._prediction_states(tracker, domain)
            rasas_prediction, rasas_source = policy._predict(tracker, domain)
        states = policy._prediction_states(tracker, domain)
        prediction, source = policy._predict(tracker, domain)
        where = f"before event {len(tracker.events)} ({action.action_name})"
        assert states == rasas_states[-len(states) :], where
        assert prediction == rasas_prediction, where
        # What a policy hands on: the probabilities, name, events and flags, all compared by PolicyPrediction.
        assert (prediction.probabilities, prediction.policy_name, prediction.events, prediction.hide_rule_turn) == (
            rasas_prediction.probabilities, rasas_prediction.policy_name, rasas_prediction.events,
            rasas_prediction.hide_rule_turn,
        ), where  # fmt: skip
        if rasas_source in policy.lookup["rules"]:
            assert source == rasas_source, where
        else:
            no_rule += 1  # the source is the states' key, in no table either way
            assert source not in policy.lookup.get("rules_not_in_stories", []), where
        if every_rule and action.policy == "RulePolicy":
            # Rasa's prediction is the action the engine took when it recorded the conversation.
            assert domain.action_names_or_texts[prediction.max_confidence_index] == action.action_name, where
        compared += 1
        windowed += len(states) < len(rasas_states)
    assert compared > 140
    assert windowed > 120, "the patch must actually cut the states of a long session"
    assert no_rule >= (0 if every_rule else 8), "with rules left out, turns that match no rule are compared too"


def test_some_turns_match_no_rule_when_rules_are_left_out(trained_rule_policy: RulePolicy) -> None:
    # Guards the test above: with rules left out, the fallback's path is really taken.
    domain = DOMAINS["ours"]()
    policy = without_some_rules(trained_rule_policy)
    fallback = domain.index_for_action("action_default_fallback")
    predictions = [policy._predict(tracker, domain)[0] for tracker, _ in before_each_action(domain)]
    assert sum(prediction.max_confidence_index == fallback for prediction in predictions) >= 4


def action_server() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def test_the_action_server_gets_the_same_state_and_our_actions_answer_the_same() -> None:
    domain = DOMAINS["ours"]()
    executor = action_server()
    runs = 0
    for tracker, action in before_each_action(domain):
        if action.action_name not in ("action_guide", "action_session_start"):
            continue
        remote = RemoteAction(action.action_name, None)
        with rasas(RemoteAction, "_action_call_format"):
            rasas_call = json.loads(json.dumps(remote._action_call_format(tracker, domain)))
        call = json.loads(json.dumps(remote._action_call_format(tracker, domain)))
        where = f"before event {len(tracker.events)} ({action.action_name})"
        sent, rasas_sent = call.pop("tracker"), rasas_call.pop("tracker")
        assert call == rasas_call, where  # next_action, sender_id, version, domain
        events, rasas_events = sent.pop("events"), rasas_sent.pop("events")
        assert sent == rasas_sent, where  # slots, latest_message, paused, active_loop, latest_action_name ...
        assert events == rasas_events[-len(events) :], where
        if any(event["event"] == "user" for event in rasas_events):
            assert events[0]["event"] == "user" and all(event["event"] != "user" for event in events[1:]), where
            assert len(events) < 12, where
        answer = asyncio.run(executor.run({**call, "tracker": {**sent, "events": events}}))
        rasas_answer = asyncio.run(executor.run({**rasas_call, "tracker": {**rasas_sent, "events": rasas_events}}))
        assert answer == rasas_answer, where
        assert answer and (answer["responses"] or action.action_name == "action_session_start"), where
        runs += 1
    assert runs >= 72  # every message, and both sessions' starts


def unusual_conversation() -> list[Event]:
    """Events of the kinds the fast paths leave to Rasa (reverts, a form, a pause) and a restart, which they take."""
    from rasa.shared.core.events import (
        ActionReverted,
        ActiveLoop,
        BotUttered,
        ConversationPaused,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
    )

    def message(text: str, intent: str) -> UserUttered:
        return UserUttered(text, {"name": intent, "confidence": 0.9})

    return [
        ActionExecuted("action_session_start"), SessionStarted(), SlotSet("step", 0), ActionExecuted("action_listen"),
        message("マイナポータルにログインしたいです", "portal_login"), ActionExecuted("action_guide"),
        SlotSet("procedure", "portal_login"), BotUttered("スマートフォンの種類は？"), ActionExecuted("action_listen"),
        message("やりなおし", "go_back"), UserUtteranceReverted(), message("iPhoneです", "inform_device"),
        ActionExecuted("action_guide"), ActionReverted(), ActionExecuted("action_guide"), SlotSet("device", "iphone"),
        Restarted(), ActionExecuted("action_session_start"), SessionStarted(), SlotSet("returning", True),
        ActionExecuted("action_listen"), message("できました", "affirm"), ActiveLoop("procedure_form"),
        ActionExecuted("procedure_form"), ActionExecuted("action_listen"), ConversationPaused(),
    ]  # fmt: skip


def every_prefix(events: list[Event], domain: Domain) -> Iterator[DialogueStateTracker]:
    """The tracker after each event (the same tracker, updated)."""
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in events:
        tracker.update(event)
        yield tracker


def restarted_conversation() -> list[Event]:
    """The recording's first turns, a restart (/restart), and more turns: simple events the fast paths take."""
    from rasa.shared.core.events import Restarted

    events = recorded_events()
    return [*events[:60], ActionExecuted("action_restart"), Restarted(), *events[60:120]]


CONVERSATIONS = {"recorded": recorded_events, "unusual": unusual_conversation, "restarted": restarted_conversation}


@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
def test_applied_events_are_rasas(conversation: str) -> None:
    domain = DOMAINS["ours"]()
    for tracker in every_prefix(CONVERSATIONS[conversation](), domain):
        with rasas(DialogueStateTracker, "applied_events"):
            rasas_events = tracker.applied_events()
        assert [id(event) for event in tracker.applied_events()] == [id(event) for event in rasas_events]


def everything_in(tracker: DialogueStateTracker) -> dict[str, Any]:
    """All of a tracker's state: its events by identity, its slots' values, events it points at by position."""
    events = list(tracker.events)

    def described(value: Any) -> Any:
        if isinstance(value, Event):
            found = [index for index, event in enumerate(events) if event is value]
            # A reset makes a new, empty message: compared by content without the time it was made.
            return found or (type(value), {**value.as_dict(), "timestamp": None})
        return value

    state = {name: described(value) for name, value in vars(tracker).items()}
    state["events"] = [id(event) for event in events]
    state["slots"] = {name: (slot.value, slot.has_been_set, type(slot)) for name, slot in tracker.slots.items()}
    return state


@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
def test_a_copy_of_a_tracker_is_rasas_copy(conversation: str) -> None:
    domain = domain_with_every_slot_featurized()
    for tracker in every_prefix(CONVERSATIONS[conversation](), domain):
        where = f"after event {len(tracker.events)}"
        with rasas(DialogueStateTracker, "copy"):
            rasas_copy = tracker.copy()
        copy = tracker.copy()
        assert everything_in(copy) == everything_in(rasas_copy), where
        assert copy.past_states(domain) == rasas_copy.past_states(domain), where
        assert copy.current_state() == rasas_copy.current_state(), where
