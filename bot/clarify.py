"""Which of two: when the model cannot decide between two intents, the resident is asked with two buttons.

The FallbackClassifier turns a message whose top two intents are within its ``ambiguity_threshold`` (or whose
best intent is below its ``threshold``) into ``nlu_fallback``. Rather than 「ちがう言葉で書いてください」, the guide
asks 「どちらのことですか」 when the two best intents are close and both plausible, each button in plain words.
``bench/nlu_bench.py`` counts how often this happens with the same rule.
"""

from __future__ import annotations

from bot.quick_replies import MENU_GROUPS, PERSON, QuickReply, start

# The two best intents are this close (in the blended confidence) ...
CLARIFY_MARGIN = 0.1
# ... and the second is at least this likely: below it the message is simply not understood.
CLARIFY_FLOOR = 0.1
# Intents a resident can be asked about, as the button that says it in their words.
_MENU_BUTTONS = {
    button.payload.removeprefix("/"): button
    for _, buttons in MENU_GROUPS.values()
    for button in buttons
    if "{" not in button.payload
}
CHOICES: dict[str, QuickReply] = {
    **_MENU_BUTTONS,
    "child_allowance": QuickReply("児童手当", start("child_allowance")),
    "childcare": QuickReply("保育園", start("childcare")),
    "pregnancy": QuickReply("妊娠の届出", start("pregnancy")),
    "human_handoff": PERSON,
    "volunteer_booking": QuickReply("会って教えてほしい", "/volunteer_booking"),
    "security_concern": QuickReply("安全か心配", "/security_concern"),
    "number_leaked": QuickReply("番号を人に知られた", "/number_leaked"),
    "ask_mynapoint": QuickReply("マイナポイント", "/ask_mynapoint"),
    "out_of_scope": QuickReply("市役所のほかの用事", "/out_of_scope"),
}


def which_of_two(ranking: tuple[tuple[str, float], ...]) -> tuple[QuickReply, QuickReply] | None:
    """The two buttons to ask with, when the two best intents (``nlu_fallback`` aside) are close and both known."""
    ranked = sorted(((c, name) for name, c in ranking if name != "nlu_fallback"), reverse=True)
    if len(ranked) < 2:
        return None
    (first, first_name), (second, second_name) = ranked[0], ranked[1]
    if first - second > CLARIFY_MARGIN or second < CLARIFY_FLOOR:
        return None
    if first_name not in CHOICES or second_name not in CHOICES:
        return None
    return CHOICES[first_name], CHOICES[second_name]
