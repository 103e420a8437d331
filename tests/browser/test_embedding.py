"""The widget embedded in a city's own page on another origin: refused until that origin is allowed."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from channels.widget.wording import OPENING
from tests.browser.conftest import axe_violations, open_context
from tests.browser.live_hub import LiveHub
from tests.browser.widget_page import bot_said, log, say


def test_a_page_of_another_site_cannot_drive_the_widget_until_its_origin_is_allowed(
    browser: Browser, live_hub: LiveHub
) -> None:
    city = live_hub.serve_city_page()
    context = open_context(browser)
    page = context.new_page()
    try:
        page.goto(city)
        page.get_by_role("button", name="相談する").click()
        expect(page.get_by_role("status").filter(has_text="つながっていません")).to_be_visible()
        page.get_by_role("textbox", name="メッセージ").fill("こんにちは")
        page.get_by_role("textbox", name="メッセージ").press("Enter")
        expect(page.get_by_role("alert")).to_have_text("いまは送れません。つながるまで、少しお待ちください。")
        assert live_hub.engine_texts() == []
        live_hub.allow_origins(city)
        page.reload()
        # The window stays open across the reload; the page now connects and shows the opening.
        expect(log(page).locator(".mgw-message")).to_have_count(len(OPENING))
        say(page, "こんにちは")
        bot_said(page, "echo: こんにちは")
        assert live_hub.engine_texts() == ["こんにちは"]
        assert axe_violations(page) == []
    finally:
        live_hub.allow_origins()
        context.close()
