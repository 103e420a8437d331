"""Step-by-step guidance through a procedure: what to say next, given where the resident is.

The guide is plain Python with no Rasa in it: the action server keeps its state in slots
and turns its replies into bot messages. Fixed wording lives in domain.yml as responses
named ``guide_*``; procedure wording comes from data/procedures/. Every turn stays within
the per-turn limits of bot.plain_japanese (the LINE and kiosk channels need them).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.city import JAPAN, City
from bot.clarify import which_of_two
from bot.contacts import ContactReply, contact_replies, desk_is_open, handoff_intro
from bot.faq import RETRIEVAL_INTENT, FaqAnswer, effective_intent
from bot.glossary import terms_to_explain
from bot.plain_japanese import MAX_MESSAGES_PER_TURN, MAX_TURN_CHARS
from bot.procedures import CHOICE_END, CHOICE_NEXT, Procedure, ProcedureStep, StepChoice, family
from bot.quick_replies import (
    CHOICE_STEP_TAIL,
    DEVICE_NAMES,
    DEVICE_REPLIES,
    MENU_ALIASES,
    MENU_BACK,
    MENU_GROUPS,
    MENU_REPLIES,
    PERSON,
    RESUME_REPLIES,
    STEP_REPLIES,
    YES_NO_REPLIES,
    QuickReply,
    start,
)
from bot.step_answers import (
    StepAnswer,
    asked_term,
    is_button_payload,
    longest_match,
    normalized,
    read_step_answer,
    says_not,
    says_stop,
    says_too_hard,
)
from bot.wording import render

# The button after an answer that opens its procedure.
FAQ_GUIDE_ME = "案内してほしい"
MAX_STEP_FAILURES = 2
MAX_FALLBACKS = 2
# The entity a button sends to open one procedure of an intent that finds several.
PROCEDURE_ENTITY = "procedure_id"
# What a resident hears when an intent finds several procedures and their words named none.
FAMILY_NAMES = {
    "child_allowance": "子どもの手当",
    "childcare": "保育園",
    "nursing_care": "介護保険",
    "car_ownership": "車",
}
__all__ = [
    "DEVICE_NAMES",
    "DEVICE_REPLIES",
    "MENU_GROUPS",
    "MENU_REPLIES",
    "RESUME_REPLIES",
    "STEP_REPLIES",
    "YES_NO_REPLIES",
    "Guide",
    "GuideState",
    "QuickReply",
    "Reply",
    "Turn",
]


@dataclass(frozen=True)
class Reply:
    """One bot message: a domain response with parameters, or procedure text as written."""

    response: str | None = None
    text: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GuideState:
    """Where a resident is; each field is a slot of the same name."""

    procedure: str | None = None
    step: int = 0
    device: str | None = None
    step_failures: int = 0
    fallbacks: int = 0
    awaiting: str | None = None  # "device", "switch", "resume" or "pick": what the last question was
    pending_procedure: str | None = None  # the procedure to switch to, or the intent whose procedures were offered
    explained_terms: tuple[str, ...] = ()
    returning: bool = False
    handoff_reason: str | None = None


@dataclass(frozen=True)
class Turn:
    """What the bot says in one turn, the buttons it offers and the state afterwards."""

    replies: tuple[Reply, ...]
    quick_replies: tuple[QuickReply, ...]
    state: GuideState
    # Sent to the hub as custom payloads: a procedure opened, a handoff, a failed step, a misunderstanding (where the
    # resident was).
    signals: tuple[dict[str, Any], ...] = ()


# What the hub sends when it gives a conversation back from staff (bot/hub/handoff.py): resume where it was.
HANDOFF_RETURNED = "handoff_returned"
# Intents only the hub sends (as "/intent"), with no training examples so no resident's words are read as them.
HUB_INTENTS = (HANDOFF_RETURNED,)


def japan_now() -> datetime.datetime:
    """The time in Japan, where the city's desk keeps its hours."""
    return datetime.datetime.now(JAPAN)


def _reply(contact: ContactReply) -> Reply:
    return Reply(contact.response, contact.text, contact.params)


def _replies(*responses: str) -> list[Reply]:
    return [Reply(name) for name in responses]


class Guide:
    """Decides each turn of the guidance from the resident's intent, words and the current state."""

    def __init__(
        self,
        catalog: dict[str, Procedure],
        city: City,
        glossary: dict[str, str],
        wording: dict[str, str],
        clock: Callable[[], datetime.datetime] = japan_now,
        faq: dict[str, FaqAnswer] | None = None,
    ) -> None:
        self.catalog = catalog
        self.city = city
        self.glossary = glossary
        self.wording = wording
        self.clock = clock
        self.faq = faq or {}

    # --- entry point -----------------------------------------------------------------
    def respond(
        self,
        state: GuideState,
        intent: str,
        entities: dict[str, str] | None = None,
        text: str = "",
        redacted: bool = False,
        faq_key: str | None = None,
        ranking: tuple[tuple[str, float], ...] = (),
    ) -> Turn:
        """The bot's turn after the resident's message.

        From the message: its intent, entities and words, whether the hub removed a number, the answer the
        ResponseSelector chose for a question (``faq_key``) and the intents' ranking (to ask which of two).
        """
        entities = entities or {}
        named = entities.get("device")
        unknown_device = named is not None and named not in DEVICE_NAMES
        if named in DEVICE_NAMES:
            state = replace(state, device=named)
        answer = self.faq.get(faq_key or "")
        topic = self.catalog[answer.procedure].intent if answer and answer.procedure in self.catalog else None
        intent = effective_intent(intent, ranking, faq_key if answer else None, topic)
        if intent != "nlu_fallback":
            state = replace(state, fallbacks=0)
        wanted = self.wanted(state, intent, text, entities.get(PROCEDURE_ENTITY))
        turn = self._decide(state, intent, text, unknown_device, redacted, wanted, faq_key)
        if intent == "nlu_fallback" and turn.state.fallbacks > state.fallbacks:
            turn = self._ask_which_of_two(state, turn, ranking)
        return self._within_limits(turn)

    # --- which procedure the resident means ------------------------------------------
    def wanted(self, state: GuideState, intent: str, text: str, chosen: str | None = None) -> str | None:
        """The procedure the resident names: by a button, or by the longest of all procedures' names in their words.

        Names are read only when the model's intent finds named procedures (or it understood nothing),
        so 「引っ越してきた」 said about moving stays a moving question. A tie goes to the intent's own family.
        """
        if chosen in self.catalog:
            return chosen
        named_family = any(procedure.names for procedure in family(self.catalog, intent))
        if not text or is_button_payload(text) or not (named_family or intent == "nlu_fallback"):
            return None
        if intent == "nlu_fallback" and state.procedure is not None:
            return None  # inside a step unknown words are answers to it, not a new topic
        words = normalized(text)
        offered = state.pending_procedure if state.awaiting == "pick" else None
        matches = [
            (
                longest_match((*procedure.names, *((procedure.button,) if procedure.intent == offered else ())), words),
                procedure.intent == intent,
                -index,
                procedure.id,
            )
            for index, procedure in enumerate(self.catalog.values())
        ]
        # A name of the family the model named beats a longer one of another family (「引っ越してきた母の介護認定」
        # is about 介護, not about a child's allowance after a move).
        best = max(matches, key=lambda m: (m[0] > 0 and m[1], *m))
        return best[3] if best[0] > 0 else None

    def _pick(self, state: GuideState, intent: str) -> Turn:
        """An intent that finds several procedures, with nothing said to choose: ask which, one button each."""
        members = family(self.catalog, intent)
        buttons = tuple(QuickReply(p.button, start(p.intent, p.id)) for p in members)
        name = FAMILY_NAMES.get(intent) or members[0].area or members[0].title
        asked = state if state.procedure is not None else replace(state, awaiting="pick", pending_procedure=intent)
        return Turn((Reply("guide_pick", params={"family": name}),), (*buttons, MENU_BACK, PERSON), asked)

    def _decide(
        self,
        state: GuideState,
        intent: str,
        text: str,
        unknown_device: bool,
        redacted: bool,
        wanted: str | None,
        faq_key: str | None = None,
    ) -> Turn:
        if redacted:
            # The hub removed a typed number: say so and ask the same question again, never change topic.
            return self._ask_again(state, [Reply("guide_redacted")])
        if intent == HANDOFF_RETURNED:
            return self._back_from_person(state)
        if intent == "stop" or (text and says_stop(text)):
            return self._stop(state) if state.procedure else self._menu(state, [Reply("guide_menu")])
        if text and not is_button_payload(text) and says_too_hard(text):
            return self.offer_person(state, "too_hard")
        if state.awaiting == "pick":
            # The answer to 「どの手続きですか」: a button or a name opens it; anything else is read afresh.
            state = replace(state, awaiting=None, pending_procedure=None)
            if wanted is not None:
                return self._start(state, wanted)
        at_step = state.procedure is not None and state.awaiting is None and not state.returning
        if at_step and text and not is_button_payload(text):
            # The step reads the words first: 「電話がつながらない」 names its known problem, even when the
            # model took it for a request for a person.
            answer = read_step_answer(text, self._current_step(state), self.glossary)
            if answer is not None:
                return self._step_answered(state, answer)
        term = None if at_step else asked_term(text, self.glossary)
        if term is not None:
            # 「マイナポータルって何？」 outside a step asks what a word means, not to start that procedure.
            explanation = Reply("guide_term", params={"term": term, "explanation": self.glossary[term]})
            return self._ask_again(
                replace(state, explained_terms=tuple(sorted({*state.explained_terms, term}))), [explanation]
            )
        if intent == RETRIEVAL_INTENT and wanted is None:
            # A question (「更新はお金がかかりますか」): its short answer; a step's own answers were read above.
            return self._answer_question(state, faq_key, unknown_device)
        if intent == "human_handoff":
            return self.offer_person(state, "asked")
        if intent == "security_concern":
            return self._aside(
                state, _replies("guide_security_never_ask", "guide_security_staff", "guide_security_scam")
            )
        if intent == "number_leaked":
            return self._aside(
                state, _replies("guide_number_leaked", "guide_number_leaked_where", "guide_security_scam")
            )
        if intent == "ask_mynapoint":
            return self._aside(state, _replies("guide_mynapoint_ended"))
        if intent == "volunteer_booking":
            return self._volunteer(state)
        if intent == "show_menu":
            return self._show_menu(state, text)
        if intent == "nlu_fallback" and wanted is None:
            return self._fallback(state, unknown_device)
        members = family(self.catalog, intent)
        if wanted is not None or members:
            target = wanted or (members[0].id if len(members) == 1 else None)
            if at_step and target not in (state.procedure, "card_lost") and text and says_not(text):
                # 「ひっこしはしてないです」 names a topic only to deny it: an answer, not a request.
                return self._show_step(state, [Reply("guide_answer_unclear")])
            if target is None:
                return self._pick(state, intent)
            return self._procedure_requested(state, target)
        if state.procedure is None:
            return self._without_procedure(state, intent)
        if state.awaiting == "device":
            return self._answer_device(state, intent, unknown_device)
        if state.awaiting == "switch":
            return self._answer_switch(state, intent)
        if intent == "resume" or state.awaiting == "resume" or state.returning:
            return self._answer_resume(state, intent)
        return self._at_step(state, intent, unknown_device)

    # --- starting, switching and resuming --------------------------------------------
    def _procedure_requested(self, state: GuideState, intent: str) -> Turn:
        if state.procedure == intent:
            return self._show_step(replace(state, awaiting=None, returning=False), [Reply("guide_resume")])
        if state.procedure is not None:
            current = self.catalog[state.procedure]
            wanted = self.catalog[intent]
            urgent = [Reply(text=text) for text in wanted.urgent]
            return Turn(
                (*urgent, Reply("guide_switch_ask", params={"current": current.title, "new": wanted.title})),
                YES_NO_REPLIES,
                replace(state, awaiting="switch", pending_procedure=intent),
            )
        return self._start(state, intent)

    def _start(self, state: GuideState, intent: str) -> Turn:
        """The opening: what this is, what to have ready, then the first question or step."""
        procedure = self.catalog[intent]
        opened = ({"event": "procedure_opened", "procedure": intent, "procedure_title": procedure.title},)
        replies = [Reply(text=text) for text in procedure.urgent]
        replies.append(Reply("guide_intro", params={"title": procedure.title, "summary": procedure.summary}))
        if procedure.city_key and not self.city.online_services.get(procedure.city_key, False):
            if procedure.not_online:
                replies.append(Reply(text=procedure.not_online))  # taken elsewhere than the city's 窓口
            else:
                replies.append(Reply("guide_not_online", params={"city": self.city.name}))
                contacts = contact_replies(self.city, ("city_helpdesk",), self.clock())
                replies.extend(_reply(contact) for contact in contacts)
            if procedure.bring:
                items = "\n".join(f"・{item}" for item in procedure.bring)
                replies.append(Reply("guide_bring", params={"items": items}))
            return Turn(tuple(replies), MENU_REPLIES, replace(state, procedure=None), opened)
        replies.append(Reply("guide_prepare", params={"items": "\n".join(f"・{item}" for item in procedure.prepare)}))
        state = replace(
            state,
            procedure=intent,
            step=0,
            step_failures=0,
            awaiting=None,
            pending_procedure=None,
            returning=False,
            handoff_reason=None,
        )
        if procedure.asks_device and state.device is None:
            replies.append(Reply("guide_ask_device"))
            return Turn(tuple(replies), DEVICE_REPLIES, replace(state, awaiting="device"), opened)
        turn = self._show_step(state, replies)
        if procedure.area is not None:
            # Who may apply (本人 only, 保護者, a 代理人 at the desk), said after the summary when the turn has room.
            at = len(procedure.urgent) + 1
            who = [*turn.replies[:at], Reply("guide_for_whom", params={"who": procedure.for_whom}), *turn.replies[at:]]
            if self._fits(who):
                turn = replace(turn, replies=tuple(who))
        return replace(turn, signals=opened)

    def _answer_device(self, state: GuideState, intent: str, unknown_device: bool) -> Turn:
        if state.device is not None and intent == "inform_device" and not unknown_device:
            name = DEVICE_NAMES[state.device]
            return self._show_step(replace(state, awaiting=None), [Reply("guide_device_set", params={"device": name})])
        if unknown_device or intent == "inform_device":
            # A phone we do not know by name (らくらくホン, arrows): say how to tell, never repeat the name.
            return Turn((Reply("guide_device_unknown"),), DEVICE_REPLIES, state)
        if intent == "dont_understand":
            return Turn((Reply("guide_device_help"),), DEVICE_REPLIES, state)
        if intent == "go_back":
            return self._stop(state)
        return Turn((Reply("guide_ask_device"),), DEVICE_REPLIES, state)

    def _answer_switch(self, state: GuideState, intent: str) -> Turn:
        if intent == "affirm" and state.pending_procedure:
            left = self.catalog[state.procedure or ""].title
            turn = self._start(replace(state, procedure=None), state.pending_procedure)
            return replace(turn, replies=(Reply("guide_stopped", params={"title": left}), *turn.replies))
        if intent in ("deny", "go_back"):
            title = self.catalog[state.procedure or ""].title
            kept = replace(state, awaiting=None, pending_procedure=None)
            return self._show_step(kept, [Reply("guide_switch_keep", params={"title": title})])
        return Turn((Reply("guide_switch_ask", params=self._switch_params(state)),), YES_NO_REPLIES, state)

    def _switch_params(self, state: GuideState) -> dict[str, str]:
        return {
            "current": self.catalog[state.procedure or ""].title,
            "new": self.catalog[state.pending_procedure or ""].title,
        }

    def _answer_resume(self, state: GuideState, intent: str) -> Turn:
        if intent == "resume" or (intent == "affirm" and state.awaiting == "resume"):
            return self._show_step(replace(state, awaiting=None, returning=False), [Reply("guide_resume")])
        if intent in ("deny", "go_back") and state.awaiting == "resume":
            return self._stop(state)
        return self._offer_resume(state)

    def _offer_resume(self, state: GuideState) -> Turn:
        procedure = self.catalog[state.procedure or ""]
        params = {"title": procedure.title, "number": self._position(state)[0]}
        return Turn((Reply("guide_resume_offer", params=params),), RESUME_REPLIES, replace(state, awaiting="resume"))

    def _stop(self, state: GuideState) -> Turn:
        title = self.catalog[state.procedure or ""].title
        stopped = replace(
            state, procedure=None, step=0, step_failures=0, awaiting=None, pending_procedure=None, returning=False
        )
        return self._menu(stopped, [Reply("guide_stopped", params={"title": title}), Reply("guide_menu")])

    # --- inside a procedure ----------------------------------------------------------
    def _at_step(self, state: GuideState, intent: str, unknown_device: bool) -> Turn:
        step = self._current_step(state)
        if intent in ("affirm", "deny") and step.choices:
            choice = next((c for c in step.choices if c.intent == intent), None)
            if choice is not None:
                return self._chosen(state, choice)
        if intent == "affirm":
            return self._advance(state, [])
        if intent == "deny":
            return self._failed(state, step)
        if intent == "dont_understand":
            replies = [Reply("guide_plain_intro"), Reply(text=step.plainer(state.device), params={"explain": True})]
            return Turn(tuple(replies), self._step_replies(step), state)
        if intent == "repeat":
            return self._show_step(state, [])
        if intent == "resume":
            return self._show_step(state, [Reply("guide_resume")])
        if intent == "go_back":
            if state.step == 0:
                return self._show_step(state, [Reply("guide_back_first")])
            return self._show_step(replace(state, step=state.step - 1, step_failures=0), [])
        if intent == "inform_device":
            procedure = self.catalog[state.procedure or ""]
            if state.device is None and procedure.asks_device:
                answer = "guide_device_unknown" if unknown_device else "guide_ask_device"
                return Turn((Reply(answer),), DEVICE_REPLIES, replace(state, awaiting="device"))
            if unknown_device or state.device is None:
                # The phone is known already, or the steps do not depend on it (「ぱすわーどはABC…」).
                return self._show_step(state, [Reply("guide_answer_unclear")])
            return self._show_step(state, [Reply("guide_device_set", params={"device": DEVICE_NAMES[state.device]})])
        if intent == "goodbye":
            number, _ = self._position(state)
            title = self.catalog[state.procedure or ""].title
            return Turn(
                (Reply("guide_goodbye_paused", params={"title": title, "number": number}),),
                RESUME_REPLIES,
                replace(state, awaiting="resume"),
            )
        if intent == "thanks":
            return self._show_step(state, [Reply("guide_thanks_in_step")])
        if intent == "out_of_scope":
            return self._show_step(state, [Reply("guide_out_of_scope"), *self._main_line()])
        return self._offer_resume(state)

    def _step_answered(self, state: GuideState, answer: StepAnswer) -> Turn:
        if answer.choice is not None:
            return self._chosen(state, answer.choice)
        if answer.term is not None:
            explanation = Reply("guide_term", params={"term": answer.term, "explanation": self.glossary[answer.term]})
            explained = tuple(sorted({*state.explained_terms, answer.term}))
            return self._show_step(replace(state, explained_terms=explained), [explanation])
        problem = answer.problem
        assert problem is not None
        replies = (
            Reply("guide_problem", params={"cause": problem.cause, "fix": problem.fix}),
            Reply("guide_try_again"),
        )
        return Turn(replies, self._step_replies(self._current_step(state)), state)

    def _chosen(self, state: GuideState, choice: StepChoice) -> Turn:
        """A resident's choice at a step: say what it means, then go where it leads (never a failure)."""
        before = [Reply(text=choice.reply, params={"explain": True})] if choice.reply else []
        if choice.then == CHOICE_NEXT:
            return self._advance(state, before)
        if choice.then == CHOICE_END:
            procedure = self.catalog[state.procedure or ""]
            ended = replace(state, procedure=None, step=0, step_failures=0, awaiting=None)
            return self._menu(ended, [*before, Reply("guide_ended", params={"title": procedure.title})])
        steps = self.catalog[state.procedure or ""].steps_for(state.device)
        target = next((i for i, step in enumerate(steps) if step.id == choice.then), None)
        if target is None:  # the branch's step is not shown for this device: carry on in order
            return self._advance(state, before)
        return self._show_step(replace(state, step=target, step_failures=0), before)

    def _advance(self, state: GuideState, before: list[Reply]) -> Turn:
        procedure = self.catalog[state.procedure or ""]
        if state.step + 1 >= len(procedure.steps_for(state.device)):
            return self._finish(state, procedure, before)
        return self._show_step(replace(state, step=state.step + 1, step_failures=0), before)

    def _failed(self, state: GuideState, step: ProcedureStep) -> Turn:
        failures = state.step_failures + 1
        state = replace(state, step_failures=failures)
        failed = self._signal("step_failed", state)
        if failures >= MAX_STEP_FAILURES:
            handoff = self.offer_person(state, "step_failed")
            return replace(handoff, signals=(failed, *handoff.signals))
        replies = [Reply("guide_problems_intro")]
        likely = [p for p in step.problems if p.applies_to(state.device)] or list(step.problems)
        replies.extend(Reply("guide_problem", params={"cause": p.cause, "fix": p.fix, "explain": True}) for p in likely)
        return Turn(tuple(replies), self._step_replies(step), state, (failed,))

    def _finish(self, state: GuideState, procedure: Procedure, before: list[Reply]) -> Turn:
        ending = procedure.ending_for(state.device)
        closing = "guide_done" if ending.achieved else "guide_ended"
        replies = (
            *before,
            Reply(closing, params={"title": procedure.title}),
            Reply(text=ending.summary),
            Reply(text=ending.next),
        )
        finished = replace(state, procedure=None, step=0, step_failures=0, awaiting=None)
        return Turn(replies, MENU_REPLIES, finished)

    def _current_step(self, state: GuideState) -> ProcedureStep:
        steps = self.catalog[state.procedure or ""].steps_for(state.device)
        return steps[min(state.step, len(steps) - 1)]

    def _position(self, state: GuideState) -> tuple[int, int]:
        steps = self.catalog[state.procedure or ""].steps_for(state.device)
        return min(state.step, len(steps) - 1) + 1, len(steps)

    def _step_replies(self, step: ProcedureStep) -> tuple[QuickReply, ...]:
        if not step.choices:
            return STEP_REPLIES
        return (*(QuickReply(choice.label, choice.label) for choice in step.choices), *CHOICE_STEP_TAIL)

    def _show_step(self, state: GuideState, before: list[Reply]) -> Turn:
        number, total = self._position(state)
        step = self._current_step(state)
        params = {"number": number, "total": total, "instruction": step.instruction(state.device), "explain": True}
        return Turn((*before, Reply("guide_step", params=params)), self._step_replies(step), state)

    def _ask_again(self, state: GuideState, before: list[Reply]) -> Turn:
        """Ask the question the resident is answering again, after what must be said first."""
        if state.procedure is None:
            return self._menu(state, [*before, Reply("guide_menu")])
        if state.awaiting == "device":
            return Turn((*before, Reply("guide_ask_device")), DEVICE_REPLIES, state)
        if state.awaiting == "switch":
            return Turn((*before, Reply("guide_switch_ask", params=self._switch_params(state))), YES_NO_REPLIES, state)
        if state.awaiting == "resume" or state.returning:
            offer = self._offer_resume(state)
            return replace(offer, replies=(*before, *offer.replies))
        return self._show_step(state, before)

    # --- outside a procedure ---------------------------------------------------------
    def _menu(self, state: GuideState, replies: list[Reply]) -> Turn:
        return Turn(tuple(replies), MENU_REPLIES, state)

    def _show_menu(self, state: GuideState, text: str) -> Turn:
        group = next((key for key in (*MENU_GROUPS, *MENU_ALIASES) if f'"{key}"' in text), None)
        group = MENU_ALIASES.get(group or "", group)
        if group is None:
            return self._menu(state, [Reply("guide_menu")])
        title, buttons = MENU_GROUPS[group]
        return Turn((Reply("guide_menu_group", params={"group": title}),), (*buttons, MENU_BACK, PERSON), state)

    def _without_procedure(self, state: GuideState, intent: str) -> Turn:
        simple = {
            "greet": "utter_greet",
            "goodbye": "utter_goodbye",
            "thanks": "utter_thanks",
            "out_of_scope": "guide_out_of_scope",
        }
        if intent in simple:
            replies = [Reply(simple[intent])]
            if intent == "out_of_scope":  # another city service: where to ask instead
                replies += self._main_line()
            if intent != "goodbye":
                replies.append(Reply("guide_menu"))
            return self._menu(state, replies)
        if intent == "inform_device" and state.device:
            return self._menu(
                state, [Reply("guide_device_set", params={"device": DEVICE_NAMES[state.device]}), Reply("guide_menu")]
            )
        return self._menu(state, [Reply("guide_menu")])

    def _fallback(self, state: GuideState, unknown_device: bool) -> Turn:
        state = replace(state, fallbacks=state.fallbacks + 1)
        missed = self._signal("fallback", state)
        if state.fallbacks >= MAX_FALLBACKS:
            handoff = self.offer_person(replace(state, fallbacks=0), "not_understood")
            return replace(handoff, signals=(missed, *handoff.signals))
        if state.awaiting == "device":
            return Turn(
                (Reply("guide_device_unknown" if unknown_device else "guide_ask_device"),),
                DEVICE_REPLIES,
                state,
                (missed,),
            )
        return replace(self._ask_again(state, [Reply("guide_fallback")]), signals=(missed,))

    def _current_replies(self, state: GuideState) -> tuple[QuickReply, ...]:
        if state.procedure is None:
            return MENU_REPLIES
        if state.awaiting is None and not state.returning:
            return self._step_replies(self._current_step(state))
        return {"device": DEVICE_REPLIES, "switch": YES_NO_REPLIES, "resume": RESUME_REPLIES}.get(
            state.awaiting or "", RESUME_REPLIES
        )

    def _aside(self, state: GuideState, replies: list[Reply]) -> Turn:
        """Answer a side question, then leave the resident where they were (with a way back to the step)."""
        if state.procedure is not None and state.awaiting is None:
            replies.append(Reply("guide_back_to_step"))
        return Turn(tuple(replies), self._current_replies(state), state)

    # --- questions -----------------------------------------------------------------------
    def _answer_question(self, state: GuideState, key: str | None, unknown_device: bool) -> Turn:
        """A short answer to a question (「保険証はもう使えないの？」), then the procedure it leads to.

        Inside a procedure the answer is an aside and the resident stays at their step; outside one the answer
        offers its procedure with one tap, or the menu when it leads to none.
        """
        answer = self.faq.get(key or "")
        if answer is None:
            return self._fallback(state, unknown_device)
        replies = [Reply(text=answer.text)]
        if answer.ask_staff:  # the facts are not sure or differ by city: the city's desk says for certain
            replies.extend(_reply(contact) for contact in contact_replies(self.city, ("city_helpdesk",), self.clock()))
        if state.procedure is not None:
            return self._aside(state, replies)
        offered = self.catalog.get(answer.procedure or "")
        if offered is None:
            return self._menu(state, replies)
        offer = Reply("guide_faq_offer", params={"title": offered.title})
        if not self._fits([*replies, offer]):
            return self._menu(state, replies)
        replies.append(offer)
        buttons = (QuickReply(FAQ_GUIDE_ME, start(offered.intent, offered.id)), MENU_BACK, PERSON)
        return Turn(tuple(replies), buttons, state)

    def _ask_which_of_two(self, before: GuideState, turn: Turn, ranking: tuple[tuple[str, float], ...]) -> Turn:
        """A message the model could not decide between two intents: ask which was meant, with two buttons.

        Only outside a procedure, and only where the guide would have asked to rephrase; it counts as a
        misunderstanding, so the second one in a row still offers a person.
        """
        two = which_of_two(ranking)
        asked_again = turn.state.awaiting == before.awaiting and turn.state.handoff_reason == before.handoff_reason
        if two is None or before.procedure is not None or before.awaiting is not None or not asked_again:
            return turn
        buttons = tuple(dict.fromkeys((*two, MENU_BACK, PERSON)))  # 人と話したい may be one of the two
        return Turn((Reply("guide_which_of_two"),), buttons, turn.state, turn.signals)

    def _main_line(self) -> list[Reply]:
        return [_reply(contact) for contact in contact_replies(self.city, ("general_contact",), self.clock())]

    def _volunteer(self, state: GuideState) -> Turn:
        contacts = contact_replies(self.city, ("in_person_help",), self.clock())
        replies = (Reply("guide_volunteer_intro"), *(_reply(contact) for contact in contacts))
        # The hub books a session in the chat when the city lists them; this answer stands otherwise.
        return Turn(replies, self._current_replies(state), state, ({"event": "volunteer_booking"},))

    # --- people ----------------------------------------------------------------------
    def offer_person(self, state: GuideState, reason: str) -> Turn:
        """The one place where the resident is offered a person.

        Until live handoff exists this gives the city helpdesk and the lines that answer now;
        at night it says when the desk opens. The reason and the step reached stay in the
        state for the handoff to pick up, and 「続きから」 or 「やめる」 answer it in one tap.
        """
        now = self.clock()
        keys: tuple[str, ...] = ("city_helpdesk", "in_person_help")
        if state.procedure is not None:
            keys = tuple(dict.fromkeys(("city_helpdesk", *self.catalog[state.procedure].help, "in_person_help")))
        contacts = [_reply(contact) for contact in contact_replies(self.city, keys, now)]
        desk, others = contacts[0], contacts[1:]
        closing = [Reply("guide_handoff_continue")] if state.procedure is not None else []
        intro = _reply(handoff_intro(self.city, reason, now))
        # The city's desk is always offered; other lines as far as the turn's limits allow.
        chosen: list[Reply] = []
        for other in others:
            if self._fits([intro, desk, *chosen, other, *closing]):
                chosen.append(other)
        # At night what works now comes first (the national lines), then the desk with its hours.
        ordered = [*chosen, desk] if desk_is_open(self.city, now) is False else [desk, *chosen]
        replies = [intro, *ordered]
        replies.extend(closing)
        signal = {**self._signal("handoff", state), "reason": reason}
        state = replace(state, handoff_reason=reason, step_failures=0)
        if state.procedure is None:
            return replace(self._menu(state, replies), signals=(signal,))
        return Turn(tuple(replies), RESUME_REPLIES, replace(state, awaiting="resume"), (signal,))

    def _back_from_person(self, state: GuideState) -> Turn:
        """The hub gave the conversation back (staff finished, or the resident stopped waiting): go on where it was."""
        state = replace(state, handoff_reason=None, fallbacks=0, step_failures=0)
        if state.procedure is None:
            return self._menu(state, [Reply("guide_back_from_person"), Reply("guide_menu")])
        if state.awaiting == "resume" or state.returning:
            state = replace(state, awaiting=None, returning=False)
        return self._ask_again(state, [Reply("guide_back_from_person")])

    def _signal(self, event: str, state: GuideState) -> dict[str, Any]:
        """A custom payload telling the hub what happened and where: procedure, its title, step and step count."""
        signal: dict[str, Any] = {"event": event}
        if state.procedure is not None:
            number, total = self._position(state)
            signal.update(procedure=state.procedure, procedure_title=self.catalog[state.procedure].title)
            if state.awaiting is None or state.awaiting == "resume":
                instruction = self._current_step(state).instruction(state.device)
                step_title = instruction if len(instruction) <= 30 else f"{instruction[:29]}…"
                signal.update(step=number, step_count=total, step_title=step_title)
        return signal

    # --- per-turn limits and jargon --------------------------------------------------
    def text_of(self, reply: Reply) -> str:
        """The message as the resident reads it."""
        if reply.text is not None:
            return reply.text
        params = {key: value for key, value in reply.params.items() if key != "explain"}
        return render(self.wording, reply.response or "", params)

    def _fits(self, replies: list[Reply]) -> bool:
        texts = [self.text_of(reply) for reply in replies]
        return len(texts) <= MAX_MESSAGES_PER_TURN and sum(len(text) for text in texts) <= MAX_TURN_CHARS

    def _within_limits(self, turn: Turn) -> Turn:
        """Explain new jargon just before the step message that uses it, as far as the turn's limits allow.

        Words not explained here are explained when the resident taps わからない or asks
        「〇〇って何？」, so a long turn never floods the resident.
        """
        explained = set(turn.state.explained_terms)
        replies = [
            replace(reply, params={k: v for k, v in reply.params.items() if k != "explain"}) for reply in turn.replies
        ]
        wanted = [bool(reply.params.get("explain")) for reply in turn.replies]
        index = 0
        while index < len(replies):
            if wanted[index]:
                for term in terms_to_explain(self.text_of(replies[index]), self.glossary, explained):
                    explanation = Reply("guide_term", params={"term": term, "explanation": self.glossary[term]})
                    candidate = [*replies[:index], explanation, *replies[index:]]
                    if self._fits(candidate):
                        replies, wanted = candidate, [*wanted[:index], False, *wanted[index:]]
                        explained.add(term)
                        index += 1
            index += 1
        state = replace(turn.state, explained_terms=tuple(sorted(explained)))
        return Turn(tuple(replies), turn.quick_replies, state, turn.signals)
