"""Browser tests: Debian's Chromium driven by Playwright against the real hub (fake engine), axe-core from npm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.browser.live_hub import LiveHub

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Chromium as a test tool: no sandbox (containers run as root), nothing fetched from the network on its own.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Engine answers slower than this get the apology, and the answer is pushed later (the push test holds one).
ENGINE_TIMEOUT = 4.0
DESKTOP = {"width": 1280, "height": 900}
# Generous waits: the suite shares two cores with other work; nothing here measures speed.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="package")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    hub = LiveHub(tmp_path_factory.mktemp("hub"), engine_timeout=ENGINE_TIMEOUT)
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture(autouse=True)
def fresh_engine(live_hub: LiveHub) -> Iterator[None]:
    """Each test starts with an engine that echoes at once, with no buttons."""

    def reset() -> None:
        engine = live_hub.engine
        engine.release()
        engine.received.clear()
        engine.buttons = []
        engine.extra_items = []
        engine.answer = None

    live_hub.run(reset)
    yield
    live_hub.run(live_hub.engine.release)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run make install (requirements/debian.txt lists it)")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
    yield chromium
    chromium.close()


def open_context(
    browser: Browser, viewport: dict[str, int] | None = None, widget: dict[str, Any] | None = None
) -> BrowserContext:
    """A fresh browser profile (empty storage: a new resident) with the opening paced fast for tests."""
    context = browser.new_context(locale="ja-JP", viewport=viewport or DESKTOP)
    context.set_default_timeout(15_000)
    config = {"pace": 5, **(widget or {})}
    context.add_init_script(f"window.MynaguideWidget = {json.dumps(config)};")
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = open_context(browser)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, live_hub: LiveHub) -> Page:
    """The demo city page, loaded, with the widget's launcher on it."""
    page = context.new_page()
    page.goto(f"{live_hub.url}/demo/")
    page.get_by_role("button", name="相談する").wait_for()
    return page


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page for WCAG 2.0 A/AA and 2.1 AA; return what it found (empty when nothing).

    Results axe could not decide ("incomplete", e.g. a contrast it cannot compute) count too: the widget
    has none today, and a new one needs a person to look.
    """
    if not AXE.exists():
        pytest.fail("axe-core is missing: run make install (npm ci installs it from package-lock.json)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const only = { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] };
            const found = await axe.run(document, { runOnly: only });
            const describe = (kind) => (v) => ({ kind, id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " :: " + (n.failureSummary || "")) });
            return [...found.violations.map(describe("violation")), ...found.incomplete.map(describe("undecided"))];
        }"""
    )
    assert isinstance(result, list)
    return result


def axe_violations_while_scrolling(page: Page, scroller: str) -> list[dict[str, Any]]:
    """axe-core at the top, middle and bottom of a scrolling element: axe skips text scrolled out of view."""
    found: list[dict[str, Any]] = []
    for share in (0.0, 0.5, 1.0):
        page.evaluate(
            "([selector, share]) => { const el = document.querySelector(selector);"
            " el.scrollTop = (el.scrollHeight - el.clientHeight) * share; }",
            [scroller, share],
        )
        found.extend(axe_violations(page))
    return found
