"""The buttons the guide offers: answers to a step, a device, a yes/no question, and the menu in groups.

Quick replies are channel-neutral: a title and the payload sent back. The payload is an intent
command (``/affirm``) or, for a step's own choices, the choice's label as typed text.
"""

from __future__ import annotations

from dataclasses import dataclass

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
# A step with choices offers them instead of できました / できません: a choice is never a failure.
CHOICE_STEP_TAIL = (STEP_REPLIES[2], STEP_REPLIES[3], STEP_REPLIES[4], PERSON)
DEVICE_REPLIES = (
    *(QuickReply(name, f'/inform_device{{"device":"{device}"}}') for device, name in DEVICE_NAMES.items()),
    QuickReply("わからない", "/dont_understand"),
    PERSON,
)
YES_NO_REPLIES = (QuickReply("はい", "/affirm"), QuickReply("いいえ", "/deny"), PERSON)
RESUME_REPLIES = (QuickReply("続きから", "/resume"), QuickReply("やめる", "/stop"), PERSON)


def _group(key: str) -> str:
    return f'/show_menu{{"menu_group":"{key}"}}'


def start(intent: str, procedure: str | None = None) -> str:
    """The payload that opens a procedure: its intent, and the procedure when the intent finds several."""
    return f"/{intent}" if procedure is None else f'/{intent}{{"procedure_id":"{procedure}"}}'


# The menu shows a few groups at a time; a senior reads one short list, not ten buttons.
# Groups follow the areas residents think in (カード, マイナポータル, 子育て, then 介護・災害・車 and the rest);
# an intent that finds several procedures (児童手当, 介護, 車) asks which one next.
MENU_GROUPS: dict[str, tuple[str, tuple[QuickReply, ...]]] = {
    "card": (
        "カードのこと",
        (
            QuickReply("カードを作りたい", "/card_apply"),
            QuickReply("カードを受け取る", "/card_receive"),
            QuickReply("カードの更新", "/card_renew"),
            QuickReply("カードをなくした", "/card_lost"),
            QuickReply("暗証番号を忘れた", "/pin_forgot"),
        ),
    ),
    "login": (
        "マイナポータル",
        (
            QuickReply("ログインできない", "/portal_login"),
            QuickReply("スマホにカードを入れる", "/smartphone_cert"),
            QuickReply("保険証の登録", "/health_insurance"),
            QuickReply("公金受取口座", "/bank_account"),
            QuickReply("確定申告", "/tax_filing"),
        ),
    ),
    "kids": (
        "子育て",
        (
            QuickReply("児童手当", start("child_allowance")),
            QuickReply("児童扶養手当", start("child_allowance", "child_support_allowance_status")),
            QuickReply("保育園", start("childcare")),
            QuickReply("妊娠の届出", start("pregnancy")),
        ),
    ),
    "city": (
        "介護・災害・車など",
        (
            QuickReply("介護の申請", "/nursing_care"),
            QuickReply("罹災証明書", "/disaster_certificate"),
            QuickReply("車の手続き", "/car_ownership"),
            QuickReply("引っ越し", "/moving"),
            QuickReply("コンビニで証明書", "/convenience_store"),
        ),
    ),
}
# Older names of groups (training data, saved buttons) and the group that took them in.
MENU_ALIASES = {"money": "login"}
MENU_REPLIES = (
    QuickReply("カードをなくした", "/card_lost"),
    *(QuickReply(title, _group(key)) for key, (title, _) in MENU_GROUPS.items()),
    QuickReply("会って教えてほしい", "/volunteer_booking"),
    PERSON,
)
MENU_BACK = QuickReply("ほかの手続き", "/show_menu")
