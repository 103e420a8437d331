"""What the hub itself says to residents, in plain Japanese: notices and apologies that no engine wrote."""

from __future__ import annotations

from bot.city import City
from bot.hub.messages import BotMessage

# Before the assistant's answer when the hub removed a My Number or a PIN from the resident's message.
REDACTION_NOTICE = "マイナンバーや暗証番号は、ここに書かないでください。書かれた番号は、こちらで消しました。"
# When a button is tapped twice, or a button of an older message is tapped.
STALE_BUTTON_NOTICE = "そのボタンは、前のご案内のものです。いまのご案内のボタンから選んでください。"
ENGINE_DOWN_NOTICE = "すみません。いまは、お答えできません。"
TRY_AGAIN = "少し待ってから、もう一度送ってください。"
ENGINE_SLOW_NOTICE = "すみません。お返事に時間がかかっています。少しお待ちください。"


def helpdesk_contact(city: City) -> BotMessage:
    """The city helpdesk, given with every apology so a resident always has somewhere to turn."""
    desk = city.helpdesk
    return BotMessage(
        f"お急ぎのときは、窓口にお電話ください。\n・{desk.name}\n・電話：{desk.phone}\n・受付：{desk.hours}"
    )


def engine_down_messages(city: City) -> list[BotMessage]:
    """The apology when the assistant cannot answer (engine or action server down, or an empty answer)."""
    return [BotMessage(ENGINE_DOWN_NOTICE), BotMessage(TRY_AGAIN), helpdesk_contact(city)]


def engine_slow_messages(city: City) -> list[BotMessage]:
    """The apology when the answer is late; the answer itself follows through the outbox."""
    return [BotMessage(ENGINE_SLOW_NOTICE), helpdesk_contact(city)]


# Live handoff (bot/hub/handoff.py). One instruction per message; the resident's numbers are never asked for.
HANDED_OVER = "職員におつなぎします。"
WRITE_WHILE_WAITING = "職員が読むまで、ここでお待ちください。用件を書いておくと、早く進みます。"
NO_NUMBERS_FOR_STAFF = "暗証番号は、職員にも教えないでください。"
STAFF_JOINED = "職員がつながりました。ここに書いてください。"
STAFF_ENDED = "職員とのお話はここまでです。"
LEAVE_QUEUE_DONE = "職員へのおつなぎをやめました。"
PASSED_ON = "書いていただいたことは、職員に届いています。もう少しお待ちください。"
KEEP_WAITING_DONE = "わかりました。職員が読むまで、お待ちください。"
FEEDBACK_QUESTION = "お役に立ちましたか。よろしければ、ボタンで教えてください。"
FEEDBACK_THANKS = "教えていただき、ありがとうございました。"
UNCLAIMED = "すみません。いま、職員の手があいていません。"
UNCLAIMED_CHOICES = "このまま待つか、ほかの方法をボタンで選んでください。"


def handed_over_messages(ahead: int, minutes: int | None) -> list[BotMessage]:
    """What happens next when a person takes over: who, how long (when known), and what to do meanwhile."""
    if ahead and minutes:
        queue = f"いま、先に{ahead}人が待っています。目安は{minutes}分ほどです。"
    elif ahead:
        queue = f"いま、先に{ahead}人が待っています。順番にご案内します。"
    elif minutes:
        queue = f"目安は{minutes}分ほどです。"
    else:
        queue = "順番にご案内します。"
    return [BotMessage(f"{HANDED_OVER}{queue}"), BotMessage(WRITE_WHILE_WAITING), BotMessage(NO_NUMBERS_FOR_STAFF)]


# Callbacks (bot/hub/callbacks.py): the resident leaves a phone number and staff call them in the desk's hours.
CALLBACK_BUTTON = "電話してほしい"
CALLBACK_ASK_NUMBER = "お電話番号を、数字で書いてください。"
CALLBACK_NUMBER_UNCLEAR = "電話番号が読み取れませんでした。0から始まる番号を、数字だけで書いてください。"
CALLBACK_CANCELLED = "お電話のご依頼は、やめました。"
CALLBACK_NO_PINS = "お電話でも、暗証番号は言わないでください。職員がたずねることもありません。"


def callback_taken_messages(city: City, last_digits: str) -> list[BotMessage]:
    """The confirmation: which number, who calls and when, and from which number (residents fear scam calls)."""
    desk = city.helpdesk
    return [
        BotMessage(f"お電話番号を受け取りました。番号の最後は{last_digits}ですね。"),
        BotMessage(f"{desk.name}の職員が、お電話します。時間は、{desk.hours}です。"),
        BotMessage(f"電話は、{desk.phone}からかかります。{CALLBACK_NO_PINS}"),
    ]


def callback_question(city: City) -> list[BotMessage]:
    """Asking for the number, with what will happen to it."""
    return [
        BotMessage(f"{city.helpdesk.name}の職員から、お電話します。番号は、お電話のためだけに使います。"),
        BotMessage(CALLBACK_ASK_NUMBER),
    ]
