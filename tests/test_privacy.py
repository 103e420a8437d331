"""Residents' My Numbers and PINs are removed from their text; ordinary numbers stay."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.privacy
from bot.privacy import MARKER, Redaction, redact_personal_numbers

M = MARKER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("マイナンバーは123456789012です。", f"マイナンバーは{M}です。"),
        ("個人番号は１２３４５６７８９０１２です", f"個人番号は{M}です"),
        ("番号は 1234 5678 9012 で合っていますか", f"番号は {M} で合っていますか"),
        ("1234-5678-9012 で申請しました", f"{M} で申請しました"),
        ("カードの番号は１２３４－５６７８－９０１２です", f"カードの番号は{M}です"),
        ("１２３４　５６７８　９０１２", M),
        ("番号は1234ー5678ー9012です", f"番号は{M}です"),
        ("123456789012 を2枚分おしえて", f"{M} を2枚分おしえて"),
        ("1234 5678 9012 3", f"{M} 3"),
        ("暗証番号は1234です", f"暗証番号は{M}です"),
        ("暗証番号１２３４を忘れました", f"暗証番号{M}を忘れました"),
        ("あんしょうばんごうは 0000 です", f"あんしょうばんごうは {M} です"),
        ("暗唱番号は 1111 にしました", f"暗唱番号は {M} にしました"),
        ("4821が暗証番号です", f"{M}が暗証番号です"),
        ("暗証番号は、たしか誕生日の 0315 です", f"暗証番号は、たしか誕生日の {M} です"),
        ("パスワードは abc123 です", f"パスワードは {M} です"),
        ("署名用のパスワードはABCD1234EFです", f"署名用のパスワードは{M}です"),
        ("PINは5678でしょうか", f"PINは{M}でしょうか"),
        ("pin 9876 でいいですか", f"pin {M} でいいですか"),
        ("ピンは4321です", f"ピンは{M}です"),
        (
            "マイナンバーは 1234 5678 9018 です。暗証番号は 4321 です",
            f"マイナンバーは {M} です。暗証番号は {M} です",
        ),
    ],
)
def test_personal_numbers_are_replaced_by_the_marker(text: str, expected: str) -> None:
    assert redact_personal_numbers(text) == Redaction(expected, found=True)


@pytest.mark.parametrize(
    "text",
    [
        "手順3を教えてください",
        "お問い合わせは0120-95-0178です",
        "電話番号は03-1234-5678です",
        "携帯は090-1234-5678です",
        "2025年に更新します",
        "マイナンバーカードの申請は2025年3月31日までです",
        "暗証番号を3回まちがえました",
        "暗証番号は4桁です",
        "2025年に暗証番号を変えました",
        "パスワードは6文字以上16文字以下です",
        "パスワードを忘れました。受付番号は5678です。",
        "0120-95-0178 に電話してから、暗証番号の再設定に行きます",
        "PINコードの再設定は、郵便番号 123-4567 の区役所でできますか",
        "ショッピングセンターの受付番号は 5678 でした",
        "ピンクのカードケースに 2025 と書いてあります",
        "ヘアピンと、整理券 5821 をもらいました",
        "パスワードは password ではありません",
        "法人番号は1234567890123です",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact_personal_numbers(text) == Redaction(text, found=False)


def test_the_marker_itself_is_not_a_finding() -> None:
    assert redact_personal_numbers(f"前に{M}と出ました").found is False


def test_privacy_runs_on_the_engines_python_310() -> None:
    source = Path(bot.privacy.__file__).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 10))
