"""A local stand-in for Google Translate's speech endpoint, speaking the batchexecute protocol gTTS uses.

gTTS posts a form with `f.req`, a JSON-in-JSON call of the `jQ1olc` RPC with [text, lang, speed, null];
the answer is Google's guarded stream (`)]}'`, then a length line, then a JSON array) whose `jQ1olc` entry
holds the MP3 as base64. `mode` makes it answer ("ok"), fail ("error": HTTP 500) or hang ("slow").
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs

PATH = "/_/TranslateWebserverUi/data/batchexecute"
# The start of an MPEG-1 Layer III frame header, then padding: what the kiosk gets is checked byte for byte.
FAKE_MP3 = b"\xff\xfb\x90\x64" + bytes(range(256)) * 4


@dataclass
class SpokenRequest:
    """What gTTS asked for: the text, the language and whether slow."""

    text: str
    lang: str
    slow: bool


@dataclass
class FakeGoogleTTS:
    """The fake's state: how it answers, and every request it took."""

    mode: Literal["ok", "error", "slow"] = "ok"
    hang_seconds: float = 3.0
    requests: list[SpokenRequest] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeGoogleTTS:
        """Listen on a free loopback port, on a thread of its own."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                if self.path.split("?")[0] != PATH or "f.req" not in parse_qs(body):
                    self.send_error(404)
                    return
                rpc = json.loads(parse_qs(body)["f.req"][0])
                name, parameter = rpc[0][0][0], json.loads(rpc[0][0][1])
                if name != "jQ1olc":
                    self.send_error(400)
                    return
                fake.requests.append(SpokenRequest(parameter[0], parameter[1], parameter[2] is True))
                if fake.mode == "error":
                    self.send_error(500)
                    return
                if fake.mode == "slow":
                    time.sleep(fake.hang_seconds)
                audio = base64.b64encode(FAKE_MP3).decode()
                entry = json.dumps(
                    [["wrb.fr", "jQ1olc", json.dumps([audio]), None, None, None, "generic"]], separators=(",", ":")
                )
                payload = f")]}}'\n\n{len(entry)}\n{entry}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
