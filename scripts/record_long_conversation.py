"""Records one long conversation with the real engine into tests/data/long_conversation.json.

Seventy resident messages straight to the engine's hub channel: procedures opened, a phone named, steps done and
failed, going back, a request for a person, words the NLU does not understand (nlu_fallback), and, half-way, a
new session (every stored event is moved three hours into the past, as in tests/e2e/test_conversations.py). The
file holds every stored event of the conversation, as Rasa stored them; tests/engine/test_long_conversation.py
replays it. Run with the hub environment: `.venv/hub/bin/python scripts/record_long_conversation.py`.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from turn_bench import ENGINE_WEBHOOK, post  # noqa: E402

from bot.launcher import Ports, Stack  # noqa: E402

OUTPUT = ROOT / "tests" / "data" / "long_conversation.json"
SENDER = "long-conversation"
FIRST_SESSION = [
    "こんにちは",
    "マイナポータルにログインしたいです",
    "iPhoneです",
    "できました",
    "わからないです",
    "もう一度お願いします",
    "できました",
    "前に戻って",
    "できません",
    "ぽぽぽ ぬるぬる",
    "できました",
    "できました",
    "ありがとう",
    "カードをなくしました",
    "電話がつながらない",
    "できました",
    "引っ越しの手続きをしたい",
    "はい",
    "できました",
    "いいえ",
    "ずんだもち らりるれろ",
    "人と話したいです",
    "やめます",
    "マイナポイントはもらえますか",
    "メニューを見せて",
    "保険証として使いたい",
    "Androidです",
    "できました",
    "わからない",
    "できません",
    "できません",
    "暗証番号を忘れました",
    "もう一度",
    "さようなら",
    "あいうえおかきくけこ",
]
SECOND_SESSION = [
    "できました",
    "続きから",
    "できました",
    "できました",
    "わからないです",
    "前に戻って",
    "できました",
    "コンビニで住民票を取りたい",
    "パソコンです",
    "できました",
    "もう一度お願いします",
    "ふにゃふにゃ",
    "できません",
    "人と話したい",
    "口座を登録したい",
    "はい",
    "できました",
    "できました",
    "確定申告をしたい",
    "スマホに電子証明書を入れたい",
    "iPhoneです",
    "できました",
    "できません",
    "わからない",
    "やめる",
    "子どもの手当",
    "こんにちは",
    "番号が漏れたかもしれない",
    "ありがとう",
    "メニュー",
    "ほげほげ",
    "できました",
    "もう一度",
    "さようなら",
    "ありがとうございました",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(), engine_timeout=60.0)
        stack.start(wait_seconds=600)
        try:
            for text in FIRST_SESSION:
                post(f"{stack.engine_url}{ENGINE_WEBHOOK}", {"sender": SENDER, "message": text})
            with sqlite3.connect(Path(data_dir) / "tracker.db") as tracker_db:
                tracker_db.execute(
                    "update events set timestamp = timestamp - :shift,"
                    " data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - :shift)"
                    " where sender_id = :sender",
                    {"shift": 3 * 3600, "sender": SENDER},
                )
            for text in SECOND_SESSION:
                post(f"{stack.engine_url}{ENGINE_WEBHOOK}", {"sender": SENDER, "message": text})
            with sqlite3.connect(Path(data_dir) / "tracker.db") as tracker_db:
                rows = tracker_db.execute(
                    "select data from events where sender_id = ? order by id", [SENDER]
                ).fetchall()
        finally:
            stack.stop()
    events = [json.loads(data) for (data,) in rows]
    # One event a line, so that a new recording reads as a diff.
    lines = ",\n".join(json.dumps(event, ensure_ascii=False) for event in events)
    OUTPUT.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    intents = [event["parse_data"]["intent"]["name"] for event in events if event["event"] == "user"]
    print(f"{len(events)} events, {len(intents)} messages, intents: {sorted(set(intents))}")


if __name__ == "__main__":
    main()
