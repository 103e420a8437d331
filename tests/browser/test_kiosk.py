"""The voice kiosk in a real browser: touch, large text, audio, staff replies, the card, the idle reset, axe."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect

from channels.kiosk import wording
from channels.kiosk.wording import OPENING
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, ENGINE_TIMEOUT, axe_violations
from tests.browser.live_hub import LiveHub

YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]
# A microphone that the browser grants without asking, fed by a generated tone.
MEDIA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
TABLET = {"width": 1180, "height": 820}
# Tests pace messages quickly and play the audio fast; what is shown and spoken is the same.
FAST = {"pace": 5, "rate": 4, "reading": 5}


class SpeechToText:
    """An operator's speech-to-text service on loopback: it keeps each recording and hears HEARD in it."""

    HEARD = "暗証番号をわすれた"

    def __init__(self) -> None:
        self.recordings: list[tuple[str, int]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                audio = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                service.recordings.append((self.headers.get("Content-Type", ""), len(audio)))
                answer = json.dumps({"text": SpeechToText.HEARD}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/recognise"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture(scope="module")
def speech_to_text() -> Iterator[SpeechToText]:
    service = SpeechToText()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory, speech_to_text: SpeechToText) -> Iterator[LiveHub]:
    """A hub serving the kiosk, with the offline voice only (a city hall without the internet)."""
    hub = LiveHub(
        tmp_path_factory.mktemp("kiosk"),
        engine_timeout=ENGINE_TIMEOUT,
        channels=("kiosk",),
        env={
            "SPEECH_GOOGLE": "off",
            "KIOSK_IDLE_SECONDS": "120",
            "KIOSK_ANSWER_SECONDS": "20",
            "KIOSK_SPEECH_TO_TEXT_URL": speech_to_text.url,
        },
    )
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, *MEDIA_FLAGS], headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="ja-JP", viewport=TABLET)
    context.set_default_timeout(15_000)
    context.add_init_script(f"window.MynaguideKiosk = {json.dumps(FAST)};")
    yield context
    context.close()


def begin(page: Page, live_hub: LiveHub) -> None:
    """Open the kiosk, touch 「はじめる」 and wait for the whole opening."""
    page.goto(f"{live_hub.url}/kiosk/")
    page.get_by_role("button", name="はじめる").click()
    expect(bot_texts(page)).to_have_count(len(OPENING))


def bot_texts(page: Page) -> Locator:
    return page.get_by_role("log", name="案内").locator(".mgw-from-bot .mgw-text, .mgw-from-staff .mgw-text")


def shown(page: Page, texts: list[str]) -> None:
    """Wait until the assistant's and staff's messages read exactly these texts (ふりがな left out)."""
    page.wait_for_function(
        """(texts) => { const nodes = document.querySelectorAll(
                "#kiosk-log .mgw-from-bot .mgw-text, #kiosk-log .mgw-from-staff .mgw-text");
            const plain = Array.from(nodes, (node) => { const copy = node.cloneNode(true);
                copy.querySelectorAll("rt, rp").forEach((reading) => reading.remove());
                return copy.textContent; });
            return JSON.stringify(plain) === JSON.stringify(texts); }""",
        arg=texts,
    )


def heard(page: Page, text: str) -> None:
    """Wait until the audio element holds this text's speech, loaded and playable."""
    page.wait_for_function(
        """(text) => { const voice = document.getElementById("kiosk-voice");
            return decodeURIComponent(voice.src).includes(text) && voice.readyState >= 2 && voice.duration > 0; }""",
        arg=text,
    )


def assert_no_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], "\n".join(f"{v['id']}: {v['help']} {v['nodes']}" for v in violations)


def test_touch_a_reply_see_it_large_and_hear_it_then_a_staff_reply_is_spoken(
    context: BrowserContext, live_hub: LiveHub
) -> None:
    live_hub.engine.buttons = YES_NO
    page = context.new_page()
    begin(page, live_hub)
    shown(page, list(OPENING))
    heard(page, OPENING[-1])
    page.get_by_role("button", name="暗証番号をわすれた").click()
    shown(page, [*OPENING, "echo: 暗証番号をわすれた"])
    heard(page, "echo: 暗証番号をわすれた")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.mgw-from-bot .mgw-text')).fontSize)")
    assert size >= 32, "bot messages are in very large text"
    # ふりがな are on from the start.
    expect(bot_texts(page).last.locator("rt")).to_have_text(["あんしょうばんごう"])
    replies = page.get_by_role("group", name="答えをえらぶボタン").get_by_role("button")
    expect(replies).to_have_text(["はい", "いいえ"])
    replies.first.click()
    shown(page, [*OPENING, "echo: 暗証番号をわすれた", "echo: /affirm"])
    assert live_hub.engine_texts() == ["暗証番号をわすれた", "/affirm"]
    live_hub.staff_reply("窓口の者です。ご用件をうかがいます。", channel="kiosk")
    shown(page, [*OPENING, "echo: 暗証番号をわすれた", "echo: /affirm", "窓口の者です。ご用件をうかがいます。"])
    expect(page.locator(".mgw-from-staff")).to_have_count(1)
    heard(page, "窓口の者です。ご用件をうかがいます。")


def test_after_the_idle_time_it_asks_then_forgets_the_resident(context: BrowserContext, live_hub: LiveHub) -> None:
    page = context.new_page()
    page.clock.install()
    begin(page, live_hub)
    page.get_by_role("button", name="引っ越しをした").click()
    shown(page, [*OPENING, "echo: 引っ越しをした"])
    assert page.evaluate("sessionStorage.getItem('mynaguide.kiosk.session')")
    page.evaluate("localStorage.setItem('mynaguide.widget.size', 'larger')")  # anything a page may have kept
    question = page.get_by_role("dialog", name="続けますか？")
    page.clock.fast_forward(60_000)
    expect(question).to_be_hidden()
    page.clock.fast_forward(61_000)
    expect(question).to_be_visible()
    page.clock.fast_forward(21_000)
    expect(question).to_be_hidden()
    expect(page.get_by_role("button", name="はじめる")).to_be_visible()
    expect(page.locator(".mgw-message")).to_have_count(0)
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    # The next resident starts a conversation of their own and sees only the opening.
    page.get_by_role("button", name="はじめる").click()
    shown(page, list(OPENING))
    expect(page.get_by_text("引っ越しをした")).to_have_count(1)  # the topic button only


def test_no_axe_violations_in_the_conversation_and_on_the_summary_card(
    context: BrowserContext, live_hub: LiveHub
) -> None:
    page = context.new_page()
    page.goto(f"{live_hub.url}/kiosk/")
    assert_no_violations(page)
    page.get_by_role("button", name="はじめる").click()
    expect(bot_texts(page)).to_have_count(len(OPENING))
    live_hub.run(
        lambda: setattr(
            live_hub.engine,
            "answer",
            [
                {"recipient_id": "x", "text": "カードの申請をご案内します。", "buttons": YES_NO},
                {"recipient_id": "x", "custom": {"event": "procedure_opened", "procedure": "card_apply"}},
            ],
        )
    )
    page.get_by_role("button", name="カードをつくりたい").click()
    expect(page.get_by_role("group", name="答えをえらぶボタン").get_by_role("button")).to_have_count(2)
    assert_no_violations(page)
    page.get_by_role("button", name="まとめを見る").click()
    card = page.get_by_role("dialog", name="カードを申請する")
    expect(card).to_be_visible()
    expect(card.get_by_role("listitem").first).to_have_text("交付申請書（QRコードがついた紙）")
    assert_no_violations(page)


def test_without_speech_recognition_the_recording_goes_to_the_operators_service(
    context: BrowserContext, live_hub: LiveHub, speech_to_text: SpeechToText
) -> None:
    # A browser without the Web Speech API (as Firefox): the kiosk records from the (fake) microphone instead.
    context.add_init_script("delete window.SpeechRecognition; delete window.webkitSpeechRecognition;")
    page = context.new_page()
    begin(page, live_hub)
    speak = page.get_by_role("button", name="話す", exact=True)
    speak.click()
    stop = page.get_by_role("button", name="話しおわった")
    expect(stop).to_be_visible()
    page.wait_for_timeout(700)
    stop.click()
    shown(page, [*OPENING, f"echo: {SpeechToText.HEARD}"])
    expect(page.locator(".mgw-from-resident .mgw-text")).to_have_text([SpeechToText.HEARD])
    [(content_type, size)] = speech_to_text.recordings
    assert content_type.startswith("audio/") and size > 0
    expect(speak).to_be_visible()


def test_a_refused_microphone_is_said_on_screen_and_aloud(playwright: Playwright, live_hub: LiveHub) -> None:
    # Chromium's stand-in permission prompt, told to refuse: as a resident or an operator saying no.
    refusing = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_FLAGS, "--use-fake-ui-for-media-stream=deny", "--use-fake-device-for-media-stream"],
        headless=True,
    )
    try:
        context = refusing.new_context(locale="ja-JP", viewport=TABLET)
        context.add_init_script(f"window.MynaguideKiosk = {json.dumps(FAST)};")
        context.add_init_script("delete window.SpeechRecognition; delete window.webkitSpeechRecognition;")
        page = context.new_page()
        begin(page, live_hub)
        page.get_by_role("button", name="話す", exact=True).click()
        expect(page.get_by_role("status")).to_have_text(wording.PAGE["micRefused"])
        heard(page, wording.PAGE["micRefused"])
    finally:
        refusing.close()
