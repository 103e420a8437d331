"""Step-by-step guidance through a procedure: what to say next, given where the resident is.

The guide is plain Python with no Rasa in it: the action server keeps its state in slots
and turns its replies into bot messages. Fixed wording lives in domain.yml as responses
named ``guide_*``; procedure wording comes from data/procedures/.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.city import City
from bot.glossary import terms_to_explain
from bot.procedures import Procedure, ProcedureStep

MAX_STEP_FAILURES = 2
MAX_FALLBACKS = 2
DEVICE_NAMES = {"iphone": "iPhone", "android": "Android", "pc": "パソコン"}


@dataclass(frozen=True)
class QuickReply:
    """A channel-neutral button: the label shown and the message it sends."""

    title: str
    payload: str


PERSON = QuickReply("人と話したい", "/human_handoff")
STEP_REPLIES = (
    QuickReply("できました", "/affirm"),
    QuickReply("できません", "/deny"),
    QuickReply("わからない", "/dont_understand"),
    QuickReply("もう一度", "/repeat"),
    QuickReply("前に戻る", "/go_back"),
    PERSON,
)
DEVICE_REPLIES = (
    *(QuickReply(name, f'/inform_device{{"device":"{device}"}}') for device, name in DEVICE_NAMES.items()),
    QuickReply("わからない", "/dont_understand"),
    PERSON,
)
YES_NO_REPLIES = (QuickReply("はい", "/affirm"), QuickReply("いいえ", "/deny"), PERSON)
RESUME_REPLIES = (QuickReply("続きから", "/resume"), QuickReply("やめる", "/deny"), PERSON)
MENU_REPLIES = (
    QuickReply("カードを作りたい", "/card_apply"),
    QuickReply("ログインできない", "/portal_login"),
    QuickReply("暗証番号を忘れた", "/pin_forgot"),
    QuickReply("カードをなくした", "/card_lost"),
    QuickReply("保険証の登録", "/health_insurance"),
    QuickReply("公金受取口座", "/bank_account"),
    QuickReply("引っ越し", "/moving"),
    QuickReply("コンビニで証明書", "/convenience_store"),
    QuickReply("会って教えてほしい", "/volunteer_booking"),
    PERSON,
)


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
    awaiting: str | None = None  # "device", "switch" or "resume": what the last question was
    pending_procedure: str | None = None
    explained_terms: tuple[str, ...] = ()
    returning: bool = False
    handoff_reason: str | None = None


@dataclass(frozen=True)
class Turn:
    """What the bot says in one turn, the buttons it offers and the state afterwards."""

    replies: tuple[Reply, ...]
    quick_replies: tuple[QuickReply, ...]
    state: GuideState


class Guide:
    """Decides each turn of the guidance from the resident's intent and the current state."""

    def __init__(self, catalog: dict[str, Procedure], city: City, glossary: dict[str, str]) -> None:
        self.catalog = catalog
        self.city = city
        self.glossary = glossary

    # --- entry point -----------------------------------------------------------------
    def respond(self, state: GuideState, intent: str, entities: dict[str, str] | None = None) -> Turn:
        """The bot's turn after the resident's message with this intent."""
        entities = entities or {}
        if entities.get("device") in DEVICE_NAMES:
            state = replace(state, device=entities["device"])
        if intent != "nlu_fallback":
            state = replace(state, fallbacks=0)

        if intent == "human_handoff":
            return self.offer_person(state, "asked")
        if intent == "volunteer_booking":
            return self._volunteer(state)
        if intent == "security_concern":
            return self._security(state)
        if intent == "nlu_fallback":
            return self._fallback(state)
        if intent in self.catalog:
            return self._procedure_requested(state, intent)
        if state.procedure is None:
            return self._without_procedure(state, intent)
        if state.awaiting == "device":
            return self._answer_device(state, intent)
        if state.awaiting == "switch":
            return self._answer_switch(state, intent)
        if state.awaiting == "resume" or state.returning:
            return self._answer_resume(state, intent)
        return self._at_step(state, intent)

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
        procedure = self.catalog[intent]
        replies = [Reply(text=text) for text in procedure.urgent]
        replies.append(Reply("guide_intro", params={"title": procedure.title}))
        replies.append(Reply(text=procedure.summary))
        if procedure.city_key and not self.city.online_services.get(procedure.city_key, False):
            replies.append(Reply("guide_not_online", params={"city": self.city.name}))
            replies.extend(self._contacts(("city_helpdesk",)))
            return self._explained(Turn(tuple(replies), MENU_REPLIES, replace(state, procedure=None)))
        replies.append(Reply(text=procedure.for_whom))
        replies.append(Reply("guide_prepare", params={"items": "\n".join(f"・{item}" for item in procedure.prepare)}))
        replies.append(Reply("guide_how_to_answer"))
        state = replace(
            state,
            procedure=intent,
            step=0,
            step_failures=0,
            awaiting=None,
            pending_procedure=None,
            returning=False,
        )
        if procedure.asks_device and state.device is None:
            replies.append(Reply("guide_ask_device"))
            return self._explained(Turn(tuple(replies), DEVICE_REPLIES, replace(state, awaiting="device")))
        return self._show_step(state, replies)

    def _answer_device(self, state: GuideState, intent: str) -> Turn:
        if state.device is not None and intent == "inform_device":
            name = DEVICE_NAMES[state.device]
            return self._show_step(replace(state, awaiting=None), [Reply("guide_device_set", params={"device": name})])
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
        if intent == "deny" and state.awaiting == "resume":
            return self._stop(state)
        return self._offer_resume(state)

    def _offer_resume(self, state: GuideState) -> Turn:
        procedure = self.catalog[state.procedure or ""]
        params = {"title": procedure.title, "number": self._position(state)[0]}
        return Turn((Reply("guide_resume_offer", params=params),), RESUME_REPLIES, replace(state, awaiting="resume"))

    def _stop(self, state: GuideState) -> Turn:
        title = self.catalog[state.procedure or ""].title
        return Turn(
            (Reply("guide_stopped", params={"title": title}), Reply("guide_menu")),
            MENU_REPLIES,
            replace(state, procedure=None, step=0, step_failures=0, awaiting=None, pending_procedure=None),
        )

    # --- inside a procedure ----------------------------------------------------------
    def _at_step(self, state: GuideState, intent: str) -> Turn:
        step = self._current_step(state)
        if intent == "affirm":
            return self._advance(state)
        if intent == "deny":
            return self._failed(state, step)
        if intent == "dont_understand":
            return self._explained(
                Turn(
                    (Reply("guide_plain_intro"), Reply(text=step.plainer(state.device))),
                    STEP_REPLIES,
                    state,
                )
            )
        if intent == "repeat":
            return self._show_step(state, [])
        if intent == "go_back":
            if state.step == 0:
                return self._show_step(state, [Reply("guide_back_first")])
            return self._show_step(replace(state, step=state.step - 1, step_failures=0), [])
        if intent == "inform_device":
            if state.device is None:  # a device was mentioned but not recognised
                return Turn((Reply("guide_ask_device"),), DEVICE_REPLIES, replace(state, awaiting="device"))
            return self._show_step(state, [Reply("guide_device_set", params={"device": DEVICE_NAMES[state.device]})])
        if intent == "goodbye":
            number, _ = self._position(state)
            title = self.catalog[state.procedure or ""].title
            return Turn(
                (Reply("guide_goodbye_paused", params={"title": title, "number": number}),),
                RESUME_REPLIES,
                state,
            )
        if intent == "thanks":
            return self._show_step(state, [Reply("guide_thanks_in_step")])
        if intent == "out_of_scope":
            return self._show_step(state, [Reply("guide_out_of_scope")])
        return self._offer_resume(state)

    def _advance(self, state: GuideState) -> Turn:
        procedure = self.catalog[state.procedure or ""]
        if state.step + 1 >= len(procedure.steps_for(state.device)):
            return self._finish(state, procedure)
        return self._show_step(replace(state, step=state.step + 1, step_failures=0), [])

    def _failed(self, state: GuideState, step: ProcedureStep) -> Turn:
        failures = state.step_failures + 1
        state = replace(state, step_failures=failures)
        if failures >= MAX_STEP_FAILURES:
            return self.offer_person(state, "step_failed")
        replies = [Reply("guide_problems_intro")]
        replies.extend(Reply("guide_problem", params={"cause": p.cause, "fix": p.fix}) for p in step.problems)
        replies.append(Reply("guide_try_again"))
        return self._explained(Turn(tuple(replies), STEP_REPLIES, state))

    def _finish(self, state: GuideState, procedure: Procedure) -> Turn:
        replies = (
            Reply("guide_done", params={"title": procedure.title}),
            Reply(text=procedure.done_summary),
            Reply(text=procedure.done_next),
            Reply("guide_menu_after_done"),
        )
        finished = replace(state, procedure=None, step=0, step_failures=0, awaiting=None)
        return self._explained(Turn(replies, MENU_REPLIES, finished))

    def _current_step(self, state: GuideState) -> ProcedureStep:
        steps = self.catalog[state.procedure or ""].steps_for(state.device)
        return steps[min(state.step, len(steps) - 1)]

    def _position(self, state: GuideState) -> tuple[int, int]:
        steps = self.catalog[state.procedure or ""].steps_for(state.device)
        return min(state.step, len(steps) - 1) + 1, len(steps)

    def _show_step(self, state: GuideState, before: list[Reply]) -> Turn:
        number, total = self._position(state)
        step = self._current_step(state)
        params = {"number": number, "total": total, "instruction": step.instruction(state.device)}
        return self._explained(Turn((*before, Reply("guide_step", params=params)), STEP_REPLIES, state))

    # --- outside a procedure ---------------------------------------------------------
    def _without_procedure(self, state: GuideState, intent: str) -> Turn:
        simple = {
            "greet": "utter_greet",
            "goodbye": "utter_goodbye",
            "thanks": "utter_thanks",
            "out_of_scope": "guide_out_of_scope",
        }
        if intent in simple:
            replies: tuple[Reply, ...] = (Reply(simple[intent]),)
            if intent != "goodbye":
                replies += (Reply("guide_menu"),)
            return Turn(replies, MENU_REPLIES, state)
        if intent == "inform_device" and state.device:
            return Turn(
                (Reply("guide_device_set", params={"device": DEVICE_NAMES[state.device]}), Reply("guide_menu")),
                MENU_REPLIES,
                state,
            )
        return Turn((Reply("guide_menu"),), MENU_REPLIES, state)

    def _fallback(self, state: GuideState) -> Turn:
        state = replace(state, fallbacks=state.fallbacks + 1)
        if state.fallbacks >= MAX_FALLBACKS:
            return self.offer_person(replace(state, fallbacks=0), "not_understood")
        replies = (Reply("guide_fallback"),)
        if state.procedure is not None and state.awaiting is None:
            return Turn(replies, STEP_REPLIES, state)
        return Turn(replies, self._current_replies(state), state)

    def _current_replies(self, state: GuideState) -> tuple[QuickReply, ...]:
        if state.procedure is None:
            return MENU_REPLIES
        return {"device": DEVICE_REPLIES, "switch": YES_NO_REPLIES, "resume": RESUME_REPLIES}.get(
            state.awaiting or "", STEP_REPLIES
        )

    def _security(self, state: GuideState) -> Turn:
        replies = (Reply("guide_security_never_ask"), Reply("guide_security_staff"), Reply("guide_security_scam"))
        return Turn(replies, self._current_replies(state), state)

    def _volunteer(self, state: GuideState) -> Turn:
        replies = (Reply("guide_volunteer_intro"), *self._contacts(("in_person_help",)))
        return Turn(replies, self._current_replies(state), state)

    # --- people ----------------------------------------------------------------------
    def offer_person(self, state: GuideState, reason: str) -> Turn:
        """The one place where the resident is offered a person.

        Until live handoff exists this gives the city helpdesk and in-person help; the
        reason and the step reached stay in the state for the handoff to pick up.
        """
        intro = {"asked": "guide_handoff_asked", "step_failed": "guide_handoff_step_failed"}.get(
            reason, "guide_handoff_not_understood"
        )
        help_keys: tuple[str, ...] = ("city_helpdesk", "in_person_help")
        if state.procedure is not None:
            help_keys = tuple(dict.fromkeys((*self.catalog[state.procedure].help, *help_keys)))
        replies = (Reply(intro), *self._contacts(help_keys))
        if state.procedure is not None:
            replies += (Reply("guide_handoff_continue"),)
        state = replace(state, handoff_reason=reason, step_failures=0)
        return Turn(replies, RESUME_REPLIES if state.procedure else MENU_REPLIES, state)

    def _contacts(self, keys: tuple[str, ...]) -> list[Reply]:
        replies = []
        for key in keys:
            if key == "city_helpdesk":
                desk = self.city.helpdesk
                params = {"name": desk.name, "place": desk.place, "phone": desk.phone, "hours": desk.hours}
                replies.append(Reply("guide_contact_city_helpdesk", params=params))
            elif key == "in_person_help":
                help_ = self.city.in_person_help
                params = {"name": help_.name, "place": help_.place, "hours": help_.hours}
                replies.append(Reply("guide_contact_in_person_help", params=params))
                if help_.booking:
                    replies.append(Reply(text=help_.booking))
            else:
                replies.append(Reply(f"guide_contact_{key}"))
        return replies

    # --- jargon ----------------------------------------------------------------------
    def _explained(self, turn: Turn) -> Turn:
        """Put a plain explanation before the first message that uses each new jargon term."""
        explained = set(turn.state.explained_terms)
        replies: list[Reply] = []
        for reply in turn.replies:
            words = " ".join(str(v) for v in (reply.text, *reply.params.values()) if v)
            for term in terms_to_explain(words, self.glossary, explained):
                explained.add(term)
                replies.append(Reply("guide_term", params={"term": term, "explanation": self.glossary[term]}))
            replies.append(reply)
        state = replace(turn.state, explained_terms=tuple(sorted(explained)))
        return Turn(tuple(replies), turn.quick_replies, state)
