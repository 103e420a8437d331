"""Every procedure, every branch, every step, met with every kind of answer a resident gives.

A class of defect, not single cases: the table below is walked for each step of each procedure
(each device branch), so the next procedure file is covered the day it is added. Each answer
must get a reply that is never empty, never contradicts the step, and keeps the per-turn limits
(at most 4 messages and 350 characters, each message plain Japanese with one instruction).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest

from bot.city import JAPAN, load_city
from bot.glossary import load_glossary
from bot.guide import Guide, GuideState, Turn
from bot.plain_japanese import check_turn
from bot.procedures import CHOICE_END, CHOICE_NEXT, DEVICES, Procedure, ProcedureStep, load_catalog
from bot.wording import load_wording

CATALOG = load_catalog()
WORDING = load_wording()
DAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN)  # a Monday morning: the desk is open
NIGHT = datetime.datetime(2026, 11, 28, 22, 30, tzinfo=JAPAN)  # a Saturday night: closed until Monday


def guide_at(moment: datetime.datetime) -> Guide:
    city = load_city()
    online = replace(city, online_services=dict.fromkeys(city.online_services, True))
    return Guide(CATALOG, online, load_glossary(), WORDING, clock=lambda: moment)


GUIDES = {"day": guide_at(DAY), "night": guide_at(NIGHT)}


@dataclass(frozen=True)
class At:
    """One step of one branch of one procedure."""

    procedure: Procedure
    device: str | None
    index: int

    @property
    def step(self) -> ProcedureStep:
        return self.procedure.steps_for(self.device)[self.index]

    @property
    def state(self) -> GuideState:
        return GuideState(procedure=self.procedure.id, step=self.index, device=self.device)

    def __str__(self) -> str:
        return f"{self.procedure.id}/{self.device or '-'}/{self.index}:{self.step.id}"


def every_step() -> Iterator[At]:
    for procedure in CATALOG.values():
        for device in DEVICES if procedure.asks_device else (None,):
            for index in range(len(procedure.steps_for(device))):
                yield At(procedure, device, index)


STEPS = list(every_step())
ANOTHER = {"moving": "card_apply"}  # a new topic for each procedure: moving, or card_apply for moving itself


def said(guide: Guide, turn: Turn) -> list[str]:
    return [guide.text_of(reply) for reply in turn.replies]


def responses(turn: Turn) -> list[str | None]:
    return [reply.response for reply in turn.replies]


def within_limits(guide: Guide, turn: Turn, where: object) -> list[str]:
    texts = said(guide, turn)
    assert check_turn(texts) == [], (str(where), texts)
    assert turn.quick_replies, (str(where), "no buttons to answer with")
    return texts


# --- the kinds of answer, each with what it must (and must never) lead to ------------------------
def done(guide: Guide, at: At) -> None:
    onward = next((choice for choice in at.step.choices if choice.intent == "affirm"), None)
    turn = guide.respond(at.state, "affirm", text="できました")
    texts = within_limits(guide, turn, at)
    assert "guide_problems_intro" not in responses(turn) and "guide_handoff_step_failed" not in responses(turn)
    if onward is not None and onward.then == CHOICE_END:
        assert turn.state.procedure is None and onward.reply in texts
        assert "guide_done" not in responses(turn)
        return
    last = at.index + 1 >= len(at.procedure.steps_for(at.device))
    if last and (onward is None or onward.then == CHOICE_NEXT):
        ending = at.procedure.ending_for(at.device)
        assert turn.state.procedure is None
        assert ending.summary in texts and ending.next in texts
        assert ("guide_done" in responses(turn)) == ending.achieved, "only an achieved ending says おつかれさまでした"
    elif onward is None or onward.then == CHOICE_NEXT:
        assert turn.state.step == at.index + 1, texts
        assert "guide_step" in responses(turn)


def not_done(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "deny", text="できません")
    texts = within_limits(guide, turn, at)
    assert "guide_done" not in responses(turn)
    chosen = next((choice for choice in at.step.choices if choice.intent == "deny"), None)
    if chosen is not None:  # 「いいえ」 to a question is a choice, never a failure
        assert "guide_problems_intro" not in responses(turn) and "guide_handoff_step_failed" not in responses(turn)
        return
    assert turn.state.step == at.index and turn.state.procedure == at.procedure.id
    shown = "\n".join(texts)
    likely = [p for p in at.step.problems if p.applies_to(at.state.device)] or list(at.step.problems)
    assert likely[0].fix in shown, "the most likely fix for the resident's device comes first and always fits"
    again = guide.respond(turn.state, "deny", text="やっぱりできません")
    within_limits(guide, again, at)
    assert again.state.handoff_reason == "step_failed" and again.state.procedure == at.procedure.id


def dont_know(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "dont_understand", text="わからない")
    texts = within_limits(guide, turn, at)
    assert at.step.plainer(at.device) in texts
    assert turn.state.step == at.index


def repeat(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "repeat", text="もう一度")
    texts = within_limits(guide, turn, at)
    assert at.step.instruction(at.device) in texts[-1]
    assert turn.state.step == at.index


def back(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "go_back", text="前に戻って")
    texts = within_limits(guide, turn, at)
    previous = at.procedure.steps_for(at.device)[max(at.index - 1, 0)]
    assert previous.instruction(at.device) in texts[-1]
    assert turn.state.step == max(at.index - 1, 0)


def stop(guide: Guide, at: At) -> None:
    for intent, text in (("stop", "/stop"), ("deny", "やめる")):
        turn = guide.respond(at.state, intent, text=text)
        within_limits(guide, turn, at)
        assert turn.state.procedure is None, (intent, text)
        assert responses(turn)[0] == "guide_stopped"


def person(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "human_handoff", text="人と話したい")
    texts = "\n".join(within_limits(guide, turn, at))
    assert guide.city.helpdesk.phone in texts
    assert turn.state.procedure == at.procedure.id
    assert {reply.title for reply in turn.quick_replies} >= {"続きから", "やめる"}
    assert texts.count("0120-95-0178") <= 1, "the national line is given once"
    resumed = guide.respond(turn.state, "resume", text="/resume")
    assert at.step.instruction(at.device) in said(guide, resumed)[-1], "続きから takes one tap"
    stopped = guide.respond(turn.state, "stop", text="/stop")
    assert stopped.state.procedure is None and "guide_handoff_step_failed" not in responses(stopped)


def unknown_device(guide: Guide, at: At) -> None:
    for name in ("らくらくホン", "arrows", "ABC12345"):
        turn = guide.respond(at.state, "inform_device", {"device": name}, text=f"{name}です")
        texts = within_limits(guide, turn, at)
        assert name not in "\n".join(texts), "a name we do not know (or a password) is never said back"
        assert turn.state.device == at.device and turn.state.procedure == at.procedure.id


def step_words(guide: Guide, at: At) -> None:
    """Free text that answers the step: each choice and each known problem, said in the resident's words."""
    misleading = ANOTHER.get(at.procedure.id, "moving")
    for choice in at.step.choices:
        for words in {choice.label, *choice.words[:2]}:
            for intent in ("nlu_fallback", misleading, at.procedure.id):
                turn = guide.respond(at.state, intent, text=words)
                texts = within_limits(guide, turn, (at, words, intent))
                assert turn.state.awaiting != "switch", (str(at), words)
                assert "guide_handoff_step_failed" not in responses(turn) and "guide_problems_intro" not in responses(
                    turn
                )
                if choice.reply:
                    assert choice.reply in texts, (str(at), words)
                if choice.then == CHOICE_END:
                    assert turn.state.procedure is None and "guide_done" not in responses(turn)
                elif choice.then != CHOICE_NEXT:
                    target = [s.id for s in at.procedure.steps_for(at.device)].index(choice.then)
                    assert turn.state.step == target
    for problem in at.step.problems:
        for words in problem.words[:3]:
            turn = guide.respond(at.state, "deny", text=f"{words}んですけど")
            texts = within_limits(guide, turn, (at, words))
            assert problem.fix in "\n".join(texts), (str(at), words)
            assert turn.state.step == at.index


def new_topic(guide: Guide, at: At) -> None:
    other = ANOTHER.get(at.procedure.id, "moving")
    turn = guide.respond(at.state, other, text="ほかの手続きもしたいです")
    within_limits(guide, turn, at)
    assert turn.state.awaiting == "switch" and turn.state.step == at.index
    kept = guide.respond(turn.state, "deny", text="いいえ")
    assert kept.state.procedure == at.procedure.id and kept.state.step == at.index
    denied = guide.respond(at.state, other, text="ひっこしはしてないです")
    if not any(choice.words for choice in at.step.choices):
        within_limits(guide, denied, at)
        assert denied.state.awaiting is None and denied.state.procedure == at.procedure.id, (
            "a denied topic is no switch"
        )


def redacted(guide: Guide, at: At) -> None:
    turn = guide.respond(at.state, "pin_forgot", text="暗証番号は［消しました］です", redacted=True)
    texts = within_limits(guide, turn, at)
    assert responses(turn)[0] == "guide_redacted"
    assert at.step.instruction(at.device) in texts[-1]
    assert turn.state.procedure == at.procedure.id and turn.state.awaiting is None


def term_question(guide: Guide, at: At) -> None:
    words = [term for term in guide.glossary if term in at.step.instruction(at.device)]
    for term in words[:1]:
        turn = guide.respond(at.state, "dont_understand", text=f"{term}って何ですか")
        texts = within_limits(guide, turn, (at, term))
        assert any(text.startswith(f"ことば：「{term}」") for text in texts)
        assert at.step.instruction(at.device) in texts[-1]


ANSWERS: dict[str, Callable[[Guide, At], None]] = {
    "done": done,
    "not done": not_done,
    "don't know": dont_know,
    "repeat": repeat,
    "back": back,
    "stop": stop,
    "person": person,
    "unknown device": unknown_device,
    "free text answering the step": step_words,
    "free text that is a new topic": new_topic,
    "a number removed by the hub": redacted,
    "asking what a word means": term_question,
}


@pytest.mark.parametrize("kind", ANSWERS)
@pytest.mark.parametrize("clock", GUIDES)
def test_every_step_meets_every_kind_of_answer(kind: str, clock: str) -> None:
    guide = GUIDES[clock]
    for at in STEPS:
        ANSWERS[kind](guide, at)


@pytest.mark.parametrize("intent", sorted(CATALOG))
@pytest.mark.parametrize("clock", GUIDES)
def test_every_opening_keeps_the_limits(intent: str, clock: str) -> None:
    guide = GUIDES[clock]
    procedure = CATALOG[intent]
    opened = {"procedure_id": intent}  # as its button opens it: its intent and, for a family, its id
    turn = guide.respond(GuideState(), procedure.intent, opened, text="おねがいします")
    texts = within_limits(guide, turn, intent)
    assert procedure.summary in texts[len(procedure.urgent)]
    for device in DEVICES if procedure.asks_device else ():
        answered = guide.respond(turn.state, "inform_device", {"device": device}, text=device)
        within_limits(guide, answered, (intent, device))
    switched = guide.respond(
        GuideState(procedure="moving" if intent != "moving" else "card_apply"), procedure.intent, opened
    )
    within_limits(guide, switched, intent)


@pytest.mark.parametrize("clock", GUIDES)
@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("greet", "こんにちは"),
        ("thanks", "ありがとう"),
        ("goodbye", "さようなら"),
        ("security_concern", "番号を教えて大丈夫？"),
        ("number_leaked", "マイナンバーを教えてしまった"),
        ("ask_mynapoint", "マイナポイントはまだもらえますか"),
        ("volunteer_booking", "会って教えてほしい"),
        ("human_handoff", "人と話したい"),
        ("nlu_fallback", "\ufffd"),
        ("out_of_scope", "天気はどう"),
        ("show_menu", '/show_menu{"menu_group":"city"}'),
        ("stop", "やめる"),
    ],
)
def test_every_answer_outside_a_step_keeps_the_limits(clock: str, intent: str, text: str) -> None:
    guide = GUIDES[clock]
    for state in (GuideState(), GuideState(procedure="portal_login", awaiting="device"), CATALOG and STEPS[0].state):
        turn = guide.respond(state, intent, text=text)
        within_limits(guide, turn, (intent, state))
