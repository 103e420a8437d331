"""A resident's conversation in the real browser: send, buttons, keyboard, IME, ふりがな, reload, push, bad input."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from bot.hub.wording import ENGINE_SLOW_NOTICE
from channels.widget.wording import OPENING
from tests.browser.conftest import open_context
from tests.browser.live_hub import LiveHub
from tests.browser.widget_page import bot_said, log, messages, open_widget, quick_replies, say, staff_said

YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]


def test_the_opening_comes_first_then_an_answer_with_buttons_that_can_be_tapped(page: Page, live_hub: LiveHub) -> None:
    live_hub.engine.buttons = YES_NO
    open_widget(page)
    assert messages(page) == list(OPENING)
    say(page, "マイナポータルにログインできません")
    bot_said(page, "echo: マイナポータルにログインできません")
    expect(quick_replies(page)).to_have_text(["はい", "いいえ"])
    for button in quick_replies(page).all():
        box = button.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44
    quick_replies(page).first.click()
    bot_said(page, "echo: /affirm")
    assert live_hub.engine_texts() == ["マイナポータルにログインできません", "/affirm"]
    # The tapped title stands in the log as the resident's answer.
    assert messages(page)[-3:-1] == ["echo: マイナポータルにログインできません", "はい"]


def test_everything_works_from_the_keyboard_and_focus_returns_to_the_launcher(page: Page, live_hub: LiveHub) -> None:
    live_hub.engine.buttons = YES_NO
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="相談する")).to_be_focused()
    assert _outline(page) >= 2, "the focused launcher shows no focus ring"
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="メッセージ")
    expect(box).to_be_focused()
    page.keyboard.type("引っ越しました")
    page.keyboard.press("Enter")
    bot_said(page, "echo: 引っ越しました")
    page.keyboard.press("Shift+Tab")
    expect(quick_replies(page).last).to_be_focused()
    assert _outline(page) >= 2, "the focused quick reply shows no focus ring"
    page.keyboard.press("Shift+Tab")
    expect(quick_replies(page).first).to_be_focused()
    page.keyboard.press("Space")
    bot_said(page, "echo: /affirm")
    # No trap: Tab leads out of the chat window into the page again.
    box.focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if not page.evaluate("document.getElementById('mgw-panel').contains(document.activeElement)"):
            break
    else:
        raise AssertionError("Tab never left the chat window")
    box.focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="相談する")).to_be_focused()


def test_enter_while_the_ime_is_converting_does_not_send(page: Page, live_hub: LiveHub) -> None:
    open_widget(page)
    box = page.get_by_role("textbox", name="メッセージ")
    box.click()
    # A real composition through Chromium's IME input: Enter confirms the conversion, it must not send.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "あんしょう", "selectionStart": 5, "selectionEnd": 5})
    page.keyboard.press("Enter")
    cdp.send("Input.insertText", {"text": "暗証"})
    # Older browsers give keyCode 229 instead of isComposing; Safari does so right after the conversion.
    for init in ("{key: 'Enter', isComposing: true}", "{key: 'Enter', keyCode: 229}"):
        box.evaluate(f"el => el.dispatchEvent(new KeyboardEvent('keydown', {{...{init}, bubbles: true}}))")
    # Chromium's simulated IME lets that Enter add a line break; a real IME keeps it. Either way: not sent.
    assert box.input_value().strip() == "暗証"
    assert messages(page) == list(OPENING)
    box.press("Enter")
    bot_said(page, "echo: 暗証")
    assert live_hub.engine_texts() == ["暗証"]


def test_furigana_shows_readings_over_kanji(page: Page) -> None:
    open_widget(page)
    switch = page.get_by_role("button", name="ふりがな")
    expect(switch).to_have_attribute("aria-pressed", "false")
    assert log(page).locator("ruby").count() == 0
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    readings = log(page).locator("ruby rt").all_inner_texts()
    assert "あんしょうばんごう" in readings and "てつづ" in readings
    say(page, "手続きを教えてください")
    expect(log(page).locator(".mgw-from-bot ruby", has_text="教").locator("rt")).to_have_text("おし")
    switch.click()
    assert log(page).locator("ruby").count() == 0


def test_a_reload_shows_the_conversation_so_far(page: Page, live_hub: LiveHub) -> None:
    live_hub.engine.buttons = YES_NO
    open_widget(page)
    say(page, "カードをなくしました")
    bot_said(page, "echo: カードをなくしました")
    token = page.evaluate("sessionStorage.getItem('mynaguide.session')")
    page.reload()
    expect(log(page).locator(".mgw-from-resident .mgw-text")).to_have_text(["カードをなくしました"])
    bot_said(page, "echo: カードをなくしました")
    assert messages(page) == [*OPENING, "カードをなくしました", "echo: カードをなくしました"]
    expect(quick_replies(page)).to_have_text(["はい", "いいえ"])
    assert page.evaluate("sessionStorage.getItem('mynaguide.session')") == token
    quick_replies(page).last.click()
    bot_said(page, "echo: /deny")
    assert live_hub.engine_texts() == ["カードをなくしました", "/deny"]


def test_a_late_answer_and_a_staff_reply_arrive_by_push(page: Page, live_hub: LiveHub) -> None:
    open_widget(page)
    live_hub.run(live_hub.engine.hold_replies)
    say(page, "マイナ保険証を使いたい")
    bot_said(page, ENGINE_SLOW_NOTICE)
    expect(page.get_by_role("status").filter(has_text="お返事を書いています")).to_be_visible()
    live_hub.run(live_hub.engine.release)
    bot_said(page, "echo: マイナ保険証を使いたい")
    expect(page.locator(".mgw-typing")).to_be_empty()
    live_hub.staff_reply("職員の田中です。ご用件を、うかがいます。")
    staff_said(page, "職員の田中です。ご用件を、うかがいます。")


def test_after_a_dropped_connection_it_reconnects_and_gets_what_came_meanwhile(page: Page, live_hub: LiveHub) -> None:
    open_widget(page)
    say(page, "こんにちは")
    bot_said(page, "echo: こんにちは")
    page.evaluate("window.MynaguideWidget.widget.client.failures = 2")  # a 4-second wait before coming back
    live_hub.drop_connections()
    expect(page.get_by_role("status").filter(has_text="つながっていません")).to_be_visible()
    live_hub.staff_reply("お待たせしました。")
    staff_said(page, "お待たせしました。")
    expect(page.get_by_role("status").filter(has_text="つながりました")).to_be_visible()
    say(page, "ありがとう")
    bot_said(page, "echo: ありがとう")
    assert messages(page).count("お待たせしました。") == 1


def test_empty_and_over_long_messages_are_not_sent_and_html_stays_text(page: Page, live_hub: LiveHub) -> None:
    open_widget(page)
    page.get_by_role("button", name="送る").click()
    expect(page.get_by_role("alert")).to_have_text("文字を入れてから、送ってください。")
    say(page, "   \n  ")
    say(page, "あ" * 2001)
    expect(page.get_by_role("alert")).to_have_text("メッセージが長すぎます。2000文字までにして、送ってください。")
    expect(page.get_by_role("textbox", name="メッセージ")).to_have_value("あ" * 2001)
    assert live_hub.engine_texts() == []
    html = '<img src="x" onerror="window.ran = 1"><b>太字</b>'
    say(page, html)
    bot_said(page, f"echo: {html}")
    expect(page.locator(".mgw-problem")).to_be_empty()
    assert log(page).locator("img, b").count() == 0
    assert page.evaluate("window.ran") is None
    assert messages(page)[-2:] == [html, f"echo: {html}"]


def test_the_talk_to_a_person_button_asks_for_a_person(page: Page, live_hub: LiveHub) -> None:
    open_widget(page)
    page.get_by_role("button", name="人と話す").click()
    bot_said(page, "echo: 人と話したい")
    assert live_hub.engine_texts() == ["人と話したい"]


def test_text_is_large_by_default_and_the_size_and_contrast_switches_work(page: Page) -> None:
    open_widget(page)
    first = log(page).locator(".mgw-text").first
    size = float(first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert size >= 20
    page.get_by_role("button", name="文字を大きく").click()
    assert float(first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= size * 1.25
    background = "el => getComputedStyle(el).backgroundColor"
    panel = page.get_by_role("dialog")
    assert panel.evaluate(background) == "rgb(255, 255, 255)"
    page.get_by_role("button", name="くっきり表示").click()
    assert panel.evaluate(background) == "rgb(0, 0, 0)"


def test_the_window_stays_open_with_its_settings_after_a_reload(browser: Browser, live_hub: LiveHub) -> None:
    context = open_context(browser)
    page = context.new_page()
    page.goto(f"{live_hub.url}/demo/")
    open_widget(page)
    page.get_by_role("button", name="ふりがな").click()
    page.reload()
    expect(page.get_by_role("button", name="ふりがな")).to_have_attribute("aria-pressed", "true")
    expect(log(page).locator("ruby").first).to_be_visible()
    context.close()


def _outline(page: Page) -> float:
    """The width of the focused element's outline, in CSS pixels (0 when it has none)."""
    return float(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth); })()"
        )
    )


def test_a_reply_that_comes_while_the_window_is_closed_is_announced_on_the_launcher(
    page: Page, live_hub: LiveHub
) -> None:
    open_widget(page)
    say(page, "窓口に行きたい")
    bot_said(page, "echo: 窓口に行きたい")
    page.get_by_role("button", name="チャットを閉じる").click()
    announced = page.get_by_role("button", name="相談する 新しいメッセージがあります")
    expect(page.get_by_role("button", name="相談する")).to_be_visible()
    expect(announced).to_have_count(0)
    live_hub.staff_reply("窓口は、1階です。")
    expect(announced).to_be_visible()
    announced.click()
    staff_said(page, "窓口は、1階です。")
    page.get_by_role("button", name="チャットを閉じる").click()
    expect(page.get_by_role("button", name="相談する")).to_be_focused()
    expect(announced).to_have_count(0)


def test_the_opening_comes_one_message_at_a_time(browser: Browser, live_hub: LiveHub) -> None:
    # A pace so slow that the second message would not come during the test: only the first is shown.
    context = open_context(browser, widget={"pace": 100_000})
    page = context.new_page()
    page.goto(f"{live_hub.url}/demo/")
    page.get_by_role("button", name="相談する").click()
    expect(log(page).locator(".mgw-message")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="お返事を書いています")).to_be_visible()
    assert messages(page) == [OPENING[0]]
    # A resident who starts talking gets the rest of the opening at once, before their own message.
    say(page, "こんにちは")
    bot_said(page, "echo: こんにちは")
    assert messages(page) == [*OPENING, "こんにちは", "echo: こんにちは"]
    context.close()
