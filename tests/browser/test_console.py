"""The helpdesk console in Debian's Chromium (Playwright): log in, claim, reply, see the resident's answer; axe-core.

The real hub with its console runs on loopback in front of the fake engine; residents write over real HTTP on the
web channel. Chromium is launched by tests/browser/conftest.py (its flags, `executable_path=/usr/bin/chromium`);
axe-core comes from npm (package.json, `npm ci`) and is injected into each page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import HANDOFF, PASSWORDS, accounts_file
from tests.console.live_desk import LiveDesk

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["accounts_file"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
# Generous: two shared cores; nothing here measures speed.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, accounts_file: Path) -> Iterator[LiveDesk]:
    live = LiveDesk(tmp_path_factory.mktemp("desk"), accounts_file)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile on Debian's Chromium (the `browser` fixture of tests/browser/conftest.py)."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def log_in(page: Page, desk: LiveDesk, role: str) -> None:
    page.goto(f"{desk.url}/console/login")
    page.get_by_label("名前").fill(f"{role}1")
    page.get_by_label("パスワード").fill(PASSWORDS[role])  # type: ignore[index]
    page.get_by_role("button", name="ログインする").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core on the page for WCAG 2.0 A/AA and 2.1 AA: violations and checks it could not decide."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run make install (npm ci installs it from package-lock.json)")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const only = { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] };
            const found = await axe.run(document, { runOnly: only });
            const describe = (kind) => (v) => ({ kind, id: v.id, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " :: " + (n.failureSummary || "")) });
            return [...found.violations.map(describe("violation")), ...found.incomplete.map(describe("undecided"))];
        }"""
    )
    assert isinstance(result, list)
    return result


def assert_accessible(page: Page) -> None:
    assert page.locator("html").get_attribute("lang") == "ja"
    violations = axe_violations(page)
    assert violations == [], "\n".join(f"{v['kind']} {v['id']}: {v['help']} {v['nodes']}" for v in violations)


def test_staff_claim_reply_and_see_the_residents_answer_arrive(page: Page, desk: LiveDesk) -> None:
    desk.hand_over_next(HANDOFF)
    session = desk.resident_says("ログインで3回失敗しました")["session"]
    log_in(page, desk, "staff")
    assert_accessible(page)
    ticket_link = page.get_by_role("link", name="依頼 1")
    expect(ticket_link).to_be_visible()
    ticket_link.click()
    expect(page.get_by_role("heading", name="依頼 1")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="担当する").click()
    expect(page.locator("#ticket-state")).to_have_text("対応中")
    page.get_by_label("住民への返信").fill("窓口の担当です。どの画面が出ていますか。")
    page.get_by_role("button", name="送る").click()
    expect(page.get_by_role("status")).to_have_text("送りました。")
    assert "窓口の担当です。どの画面が出ていますか。" in desk.resident_reads(session)

    # The resident answers; it appears without reloading, as text even when it looks like HTML.
    desk.resident_says('<b onclick="alert(1)">ログイン</b>の画面です', session)
    newest = page.locator("#transcript .from-resident .text").last
    expect(newest).to_have_text('<b onclick="alert(1)">ログイン</b>の画面です')
    assert page.locator("#transcript b").count() == 0
    expect(page.get_by_role("status")).to_have_text("住民から新しいメッセージがあります。")

    page.get_by_label("定型文").select_option(label="終わりのあいさつ")
    expect(page.get_by_label("住民への返信")).to_have_value(
        "ほかに困っていることはありますか。なければ、これで終わります。"
    )
    page.get_by_label("メモ", exact=True).fill("折り返しは不要")
    page.get_by_role("button", name="メモを残す").click()
    expect(page.locator("#notes")).to_contain_text("折り返しは不要")
    assert_accessible(page)
    page.get_by_role("button", name="解決にする").click()
    expect(page.locator("#ticket-state")).to_have_text("解決")


def test_the_queue_shows_a_new_ticket_without_reloading(page: Page, desk: LiveDesk) -> None:
    log_in(page, desk, "staff")
    rows_before = page.locator("#queue tbody a").count()
    desk.hand_over_next(HANDOFF)
    desk.resident_says("もういい、難しすぎる")
    expect(page.locator("#queue tbody a")).to_have_count(rows_before + 1)


def test_statistics_draw_charts_over_tables_with_the_same_numbers(page: Page, desk: LiveDesk) -> None:
    if not CHART_JS.exists():
        pytest.fail("Chart.js is missing: run make install (npm ci installs it from package-lock.json)")
    log_in(page, desk, "staff")
    page.get_by_role("link", name="統計").click()
    expect(page.get_by_role("heading", name="統計（この30日）")).to_be_visible()
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 4")
    expect(page.locator("#table-stuck")).to_contain_text("マイナポータルにログインする")
    assert_accessible(page)
    page.get_by_role("link", name="相談会の予約").click()
    expect(page.get_by_role("heading", name="相談会の予約（これからの分）")).to_be_visible()
    assert_accessible(page)


def test_the_log_in_and_accounts_pages_are_accessible(page: Page, desk: LiveDesk) -> None:
    page.goto(f"{desk.url}/console/login")
    assert_accessible(page)
    page.get_by_label("名前").fill("admin1")
    page.get_by_label("パスワード").fill("wrong-password-1")
    page.get_by_role("button", name="ログインする").click()
    expect(page.get_by_role("alert")).to_contain_text("名前かパスワードがちがいます")
    assert_accessible(page)
    log_in(page, desk, "admin")
    expect(page.get_by_role("heading", name="アカウント", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("名前").fill("tanaka")
    page.get_by_label("役割").select_option(label="ボランティア")
    page.get_by_label("パスワード（12文字以上）").fill("tanaka-san-no-aikotoba")
    page.get_by_role("button", name="追加する").click()
    expect(page.get_by_role("status").first).to_contain_text("tanaka を追加しました。")
    assert_accessible(page)
    page.get_by_role("link", name="受付時間と相談会").click()
    expect(page.get_by_role("heading", name="受付時間と相談会")).to_be_visible()
    expect(page.locator("#where-to-edit")).to_contain_text("config/city.yml")
    assert_accessible(page)


def test_staff_send_a_ticket_to_volunteers_who_then_see_and_claim_it(
    page: Page, browser: Browser, desk: LiveDesk
) -> None:
    desk.hand_over_next(HANDOFF)
    desk.resident_says("スマホの文字を大きくしたいです")
    log_in(page, desk, "staff")
    newest = page.locator("#queue tbody a").last
    number = newest.inner_text()
    newest.click()
    page.get_by_role("button", name="ボランティアに回す").click()
    expect(page.locator("#ticket-routed")).to_have_text("ボランティア")
    expect(page.get_by_role("button", name="職員に戻す")).to_be_visible()
    assert_accessible(page)

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        helper = context.new_page()
        log_in(helper, desk, "volunteer")
        row = helper.locator("#queue tbody tr", has=helper.get_by_role("link", name=number, exact=True))
        expect(row).to_contain_text("ボランティア")
        assert_accessible(helper)
        helper.get_by_role("link", name=number, exact=True).click()
        helper.get_by_role("button", name="担当する").click()
        expect(helper.locator("#ticket-state")).to_have_text("対応中")
        assert_accessible(helper)
        # The volunteer passes it back to staff, and their own queue no longer lists it.
        helper.get_by_role("button", name="職員に戻す").click()
        expect(helper.get_by_role("heading", name="待ち行列")).to_be_visible()
        expect(helper.get_by_role("link", name=number, exact=True)).to_have_count(0)
    finally:
        context.close()
    expect(page.locator("#ticket-routed")).to_have_text("職員")


def test_a_reset_password_is_shown_once_and_its_owner_changes_it(page: Page, browser: Browser, desk: LiveDesk) -> None:
    log_in(page, desk, "admin")
    page.get_by_label("名前").fill("suzuki")
    page.get_by_label("役割").select_option(label="職員")
    page.get_by_label("パスワード（12文字以上）").fill("suzuki-san-no-aikotoba")
    page.get_by_role("button", name="追加する").click()
    page.get_by_label("アカウント", exact=True).select_option(label="suzuki（職員）")
    page.get_by_role("button", name="再設定する").click()
    generated = page.locator("#generated-password code").inner_text()
    assert len(generated) >= 12
    assert_accessible(page)

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        owner = context.new_page()
        owner.goto(f"{desk.url}/console/login")
        owner.get_by_label("名前").fill("suzuki")
        owner.get_by_label("パスワード").fill(generated)
        owner.get_by_role("button", name="ログインする").click()
        owner.get_by_role("link", name="パスワードを変える").click()
        assert_accessible(owner)
        owner.get_by_label("いまのパスワード").fill(generated)
        owner.get_by_label("新しいパスワード（12文字以上）").fill("suzuki-no-atarashii-aikotoba")
        owner.get_by_label("新しいパスワード（確認のため、もう一度）").fill("suzuki-no-atarashii-aikotoba")
        owner.get_by_role("button", name="パスワードを変える").click()
        expect(owner.get_by_role("status").first).to_contain_text("パスワードを変えました")
        assert_accessible(owner)
        # The page answered under the new session: it still works from here.
        owner.get_by_role("link", name="待ち行列").click()
        expect(owner.get_by_role("heading", name="待ち行列")).to_be_visible()
    finally:
        context.close()


def test_the_console_works_by_keyboard_with_a_visible_focus(page: Page, desk: LiveDesk) -> None:
    desk.hand_over_next(HANDOFF)
    desk.resident_says("人と話したいです")
    page.goto(f"{desk.url}/console/login")
    # The name field has the focus when the page opens: wait for it, as a person would look before typing.
    expect(page.get_by_role("textbox", name="名前")).to_be_focused()
    page.keyboard.type("staff1")
    page.keyboard.press("Tab")
    expect(page.get_by_label("パスワード")).to_be_focused()
    page.keyboard.type(PASSWORDS["staff"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="待ち行列")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="本文へ移動")).to_be_focused()
    assert focus_outline(page) >= 2
    ticket_link = page.locator("#queue tbody a").last
    ticket_link.focus()
    page.keyboard.press("Enter")
    claim = page.get_by_role("button", name="担当する")
    claim.focus()
    assert focus_outline(page) >= 2
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-state")).to_have_text("対応中")


def focus_outline(page: Page) -> float:
    """The width of the focused element's outline in CSS pixels (0 when it has none)."""
    return float(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth); })()"
        )
    )
