"""Questions rather than requests: a short answer with its procedure offered, and 「どちらのことですか」 when unsure."""

from __future__ import annotations

import pytest

from bot.city import load_city
from bot.clarify import CHOICES, which_of_two
from bot.faq import FaqAnswer, load_faq
from bot.glossary import load_glossary
from bot.guide import FAQ_GUIDE_ME, MENU_REPLIES, Guide, GuideState, Turn
from bot.plain_japanese import check_turn
from bot.procedures import load_catalog
from tests.test_guide import OPEN_HOURS, WORDING, press, start, texts

SOURCE = ("https://www.kojinbango-card.go.jp/",)
FAQ = {
    "renewal_when": FaqAnswer("renewal_when", "有効期限の3か月前から、更新できます。", "card_renew", False, SOURCE),
    "four_pins": FaqAnswer("four_pins", "暗証番号は4つあります。", None, False, SOURCE),
    "proxy": FaqAnswer("proxy", "代わりの人でもできる場合があります。", "card_receive", True, SOURCE),
}


@pytest.fixture(scope="module")
def guide() -> Guide:
    return Guide(load_catalog(), load_city(), load_glossary(), WORDING, clock=lambda: OPEN_HOURS, faq=FAQ)


def test_a_question_gets_its_answer_then_its_procedure_offered(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "faq", text="カードの更新っていつからできるの", faq_key="renewal_when")
    said = texts(turn)
    assert said[0] == "有効期限の3か月前から、更新できます。"
    assert "カードの更新" in said[-1] or guide.catalog["card_renew"].title in said[-1]
    assert turn.state == GuideState(), "a question starts nothing by itself"
    assert turn.quick_replies[0].title == FAQ_GUIDE_ME
    assert check_turn(said) == []
    opened = press(guide, turn.state, turn.quick_replies[0].payload)
    assert opened.state.procedure == "card_renew" or opened.state.pending_procedure == "card_renew"


def test_an_answer_that_leads_nowhere_shows_the_menu(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "faq", text="暗証番号っていくつあるの", faq_key="four_pins")
    assert texts(turn) == ["暗証番号は4つあります。"]
    assert turn.quick_replies == MENU_REPLIES


def test_an_unsure_answer_gives_the_city_desk(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "faq", text="娘が代わりに受け取ってもいい？", faq_key="proxy")
    said = "\n".join(texts(turn))
    assert guide.city.helpdesk.phone in said
    assert check_turn(texts(turn)) == []


def test_a_question_inside_a_procedure_leaves_the_resident_at_their_step(guide: Guide) -> None:
    at_step = start(guide, "portal_login")
    turn = guide.respond(at_step.state, "faq", text="更新はいつからできますか", faq_key="renewal_when")
    assert turn.state == at_step.state
    assert texts(turn)[0] == "有効期限の3か月前から、更新できます。"
    assert FAQ_GUIDE_ME not in [reply.title for reply in turn.quick_replies]
    assert turn.quick_replies == at_step.quick_replies


def test_an_answer_the_guide_does_not_have_is_a_misunderstanding(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "faq", text="？？", faq_key="no_such_answer")
    assert turn.state.fallbacks == 1
    assert turn.signals and turn.signals[0]["event"] == "fallback"


def ranking(*pairs: tuple[str, float]) -> tuple[tuple[str, float], ...]:
    return (("nlu_fallback", 0.2), *pairs)


def test_two_close_intents_are_asked_about_with_two_buttons(guide: Guide) -> None:
    close = ranking(("card_receive", 0.34), ("card_apply", 0.31), ("moving", 0.05))
    turn = guide.respond(GuideState(), "nlu_fallback", text="カードのことで", ranking=close)
    assert texts(turn) == ["どちらのことですか。ボタンで選んでください。"]
    assert turn.quick_replies[:2] == (CHOICES["card_receive"], CHOICES["card_apply"])
    assert turn.state.fallbacks == 1 and turn.signals[0]["event"] == "fallback"
    chosen = press(guide, turn.state, turn.quick_replies[1].payload)
    assert chosen.state.procedure == "card_apply" or chosen.state.awaiting == "device"
    assert chosen.state.fallbacks == 0


def test_the_second_misunderstanding_in_a_row_still_offers_a_person(guide: Guide) -> None:
    close = ranking(("card_receive", 0.34), ("card_apply", 0.31))
    first = guide.respond(GuideState(), "nlu_fallback", text="カードのことで", ranking=close)
    second = guide.respond(first.state, "nlu_fallback", text="カードのやつ", ranking=close)
    assert second.state.handoff_reason == "not_understood"


def test_inside_a_step_an_unclear_answer_is_not_turned_into_a_choice_of_topics(guide: Guide) -> None:
    at_step = start(guide, "portal_login")
    close = ranking(("card_receive", 0.34), ("card_apply", 0.31))
    turn = guide.respond(at_step.state, "nlu_fallback", text="うーん", ranking=close)
    assert "どちらのことですか。ボタンで選んでください。" not in texts(turn)


@pytest.mark.parametrize(
    ("pairs", "asked"),
    [
        ((("card_receive", 0.34), ("card_apply", 0.31)), True),
        ((("card_receive", 0.50), ("card_apply", 0.31)), False),  # not close: the fallback asks to rephrase
        ((("card_receive", 0.09), ("card_apply", 0.08)), False),  # both unlikely: not understood at all
        ((("card_receive", 0.34), ("faq", 0.31)), False),  # a question has no button of its own
        ((("card_receive", 0.34),), False),
    ],
)
def test_which_of_two_asks_only_when_two_known_intents_are_close(
    pairs: tuple[tuple[str, float], ...], asked: bool
) -> None:
    assert (which_of_two(ranking(*pairs)) is not None) is asked


def test_every_choice_button_opens_its_own_intent() -> None:
    for intent, button in CHOICES.items():
        assert button.payload.split("{")[0] == f"/{intent}", intent


def test_asking_about_a_person_does_not_show_that_button_twice(guide: Guide) -> None:
    close = ranking(("human_handoff", 0.33), ("volunteer_booking", 0.30))
    turn: Turn = guide.respond(GuideState(), "nlu_fallback", text="だれか", ranking=close)
    titles = [reply.title for reply in turn.quick_replies]
    assert len(titles) == len(set(titles))


@pytest.fixture(scope="module")
def shipped() -> Guide:
    catalog = load_catalog()
    answers = load_faq(procedures=catalog)
    return Guide(catalog, load_city(), load_glossary(), WORDING, clock=lambda: OPEN_HOURS, faq=answers)


@pytest.mark.parametrize("key", sorted(load_faq()))
def test_every_shipped_answer_makes_a_plain_turn_that_offers_its_procedure(shipped: Guide, key: str) -> None:
    answer = shipped.faq[key]
    turn = shipped.respond(GuideState(), "faq", text="？", faq_key=key)
    said = texts(turn)
    assert said[0] == answer.text
    assert check_turn(said) == []
    if answer.procedure is not None:
        assert turn.quick_replies[0].title == FAQ_GUIDE_ME, "the offer fits the turn's limits"
        assert press(shipped, turn.state, turn.quick_replies[0].payload).signals[0]["procedure"] == answer.procedure


def test_a_question_the_model_hesitated_on_against_its_own_procedure_gets_the_answer(guide: Guide) -> None:
    close = ranking(("card_renew", 0.40), ("faq", 0.38))
    turn = guide.respond(GuideState(), "nlu_fallback", text="更新っていつから", faq_key="renewal_when", ranking=close)
    assert texts(turn)[0] == FAQ["renewal_when"].text
    assert turn.state.fallbacks == 0
