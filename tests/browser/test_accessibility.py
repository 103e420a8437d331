"""JIS X 8341-3 AA (WCAG 2.0 AA, with 2.1's reflow and status messages): axe-core scans and checks it cannot make."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations, axe_violations_while_scrolling, open_context
from tests.browser.live_hub import LiveHub
from tests.browser.widget_page import bot_said, log, open_widget, quick_replies, say

YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]
# 200 % zoom of a 1280×900 window lays the page out in 640×450 CSS pixels; WCAG's reflow case is 320 px wide.
ZOOMED = {"width": 640, "height": 450}
NARROW = {"width": 320, "height": 640}


def assert_no_violations(page: Page, scroller: str | None = None) -> None:
    violations = axe_violations_while_scrolling(page, scroller) if scroller else axe_violations(page)
    assert violations == [], "\n".join(f"{v['id']}: {v['help']} {v['nodes']}" for v in violations)


def test_no_violations_with_the_widget_closed(page: Page) -> None:
    assert page.locator("html").get_attribute("lang") == "ja"
    # The log is on the page before the first message, so screen readers follow what is added.
    assert page.locator("[role=log]").count() == 1
    assert_no_violations(page)


def test_no_violations_when_open_and_after_a_reply_with_buttons(page: Page, live_hub: LiveHub) -> None:
    live_hub.engine.buttons = YES_NO
    open_widget(page)
    assert page.locator(".mgw-root").get_attribute("lang") == "ja"
    assert_no_violations(page)
    say(page, "暗証番号を忘れました")
    bot_said(page, "echo: 暗証番号を忘れました")
    expect(quick_replies(page)).to_have_count(2)
    assert_no_violations(page)


def test_no_violations_with_every_display_switch_on(page: Page, live_hub: LiveHub) -> None:
    live_hub.engine.buttons = YES_NO
    open_widget(page)
    for name in ("文字を大きく", "ふりがな", "くっきり表示"):
        page.get_by_role("button", name=name).click()
    say(page, "住所が変わりました")
    expect(quick_replies(page)).to_have_count(2)
    assert_no_violations(page)


@pytest.mark.parametrize("viewport", [ZOOMED, NARROW], ids=["200-percent-zoom", "320-px"])
def test_usable_without_sideways_scrolling(browser: Browser, live_hub: LiveHub, viewport: dict[str, int]) -> None:
    live_hub.run(lambda: setattr(live_hub.engine, "buttons", YES_NO))
    context = open_context(browser, viewport=viewport)
    page = context.new_page()
    page.goto(f"{live_hub.url}/demo/")
    assert_no_violations(page)
    open_widget(page)
    say(page, "マイナポータルの使い方を知りたい")
    bot_said(page, "echo: マイナポータルの使い方を知りたい")
    page.get_by_role("button", name="文字を大きく").click()
    # The whole window scrolls at this size: each part is checked in view.
    assert_no_violations(page, scroller="#mgw-panel")
    width = viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.getElementById('mgw-panel').scrollWidth") <= width
    # Every control can be reached by scrolling down only, and lies within the width of the window.
    controls = page.locator("#mgw-panel button:visible, #mgw-panel textarea")
    for index in range(controls.count()):
        control = controls.nth(index)
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, control
        assert box["width"] >= 44 and box["height"] >= 44, control
    quick_replies(page).first.click()
    bot_said(page, "echo: /affirm")
    expect(log(page)).to_be_visible()
    context.close()
