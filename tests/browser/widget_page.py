"""How the tests use the widget on a page: as a resident would, by role and label."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from channels.widget.wording import OPENING


def open_widget(page: Page) -> None:
    """Open the chat window and wait for the whole opening."""
    page.get_by_role("button", name="相談する").click()
    expect(log(page).locator(".mgw-message")).to_have_count(len(OPENING))


def log(page: Page) -> Locator:
    return page.get_by_role("log", name="会話")


def say(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    box = page.get_by_role("textbox", name="メッセージ")
    box.fill(text)
    box.press("Enter")


def messages(page: Page) -> list[str]:
    """The texts in the log, oldest first, without readings."""
    return [text.strip() for text in log(page).locator(".mgw-message .mgw-text").all_inner_texts()]


def bot_said(page: Page, text: str) -> None:
    """Wait until the assistant's message with exactly this text is in the log."""
    expect(log(page).locator(".mgw-from-bot .mgw-text", has_text=text).last).to_have_text(text)


def staff_said(page: Page, text: str) -> None:
    """Wait until a message from staff with exactly this text is in the log, labelled as from a person."""
    expect(log(page).locator(".mgw-from-staff .mgw-text", has_text=text).last).to_have_text(text)


def quick_replies(page: Page) -> Locator:
    return log(page).get_by_role("group", name="選んでください").get_by_role("button")
