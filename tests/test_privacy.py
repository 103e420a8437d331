"""Residents' My Numbers and PINs are removed from their text; ordinary numbers stay."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

import bot.privacy
from bot.privacy import MARKER, Redaction, mentions_pin, redact_personal_numbers

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


# What residents typed, and the secret in it. Every PIN word spelling (kanji, kana, half-width, mixed, ASCII),
# every way of spreading digits, and the three kinds of card PIN and password.
SECRETS = [
    # 暗証番号 in every spelling residents use
    ("暗証番号は1234です", "1234"),
    ("暗唱番号は5678です", "5678"),
    ("暗しょう番号は4321", "4321"),
    ("あんしょう番号は1234", "1234"),
    ("あんしょうばんごうは 0000 です", "0000"),
    ("アンショウバンゴウは9876", "9876"),
    ("ｱﾝｼｮｳﾊﾞﾝｺﾞｳは2468", "2468"),
    ("暗証ばんごう 1357 でした", "1357"),
    ("あん証番号は8642", "8642"),
    ("暗証は7777にしました", "7777"),
    ("暗証番号　１２３４", "1234"),
    ("暗証番号は①②③④です", "1234"),
    ("暗証番号は 12345 だったかもしれません", "12345"),
    # digits spread, or on the next line
    ("暗証番号は\n1234", "1234"),
    ("暗証番号：\n２４６８", "2468"),
    ("暗証番号は\n\n 3579 です", "3579"),
    ("暗証番号は 1 2 3 4", "1234"),
    ("暗証番号は1-2-3-4です", "1234"),
    ("暗証番号は１ー２ー３ー４です", "1234"),
    ("暗証番号は 1.2.3.4", "1234"),
    ("暗証番号は12 34です", "1234"),
    ("暗証番号は\n1\n2\n3\n4", "1234"),
    ("暗証番号は、1,2,3,4 です", "1234"),
    ("暗証番号は　９　８　７　６", "9876"),
    ("暗証番号は（1234）です", "1234"),
    ("暗証番号「1234」で合っていますか", "1234"),
    ("暗証番号は 1234\nよろしくお願いします", "1234"),
    ("暗証番号4桁は 2580 です", "2580"),
    ("暗証番号1234で5回まちがえました", "1234"),
    ("4821が暗証番号です", "4821"),
    ("暗証番号は、たしか誕生日の 0315 です", "0315"),
    ("暗証番号を忘れたので 1111 と入れてみました", "1111"),
    # パスワード, パスコード
    ("ぱすわーどはABC12345です", "ABC12345"),
    ("パスワードはABC12345です", "ABC12345"),
    ("パスワードは ａｂｃ１２３４５ です", "abc12345"),
    ("ﾊﾟｽﾜｰﾄﾞはXYZ98765", "XYZ98765"),
    ("パスワドは abcd9876 です", "abcd9876"),
    ("パスワード\nQWER5678TY", "QWER5678TY"),
    ("パスワード：Abc123456", "Abc123456"),
    ("パスわーど は MYNA2468", "MYNA2468"),
    ("password は hello2025 です", "hello2025"),
    ("ｐａｓｓｗｏｒｄ：ｐａｓｓ１２３４", "pass1234"),
    ("PW は abcd1234", "abcd1234"),
    ("パスコード1234", "1234"),
    ("ぱすこーどは 5678", "5678"),
    ("ﾊﾟｽｺｰﾄﾞ 2580", "2580"),
    ("Passcode: 8520", "8520"),
    # PIN, ピン
    ("PINは5678でしょうか", "5678"),
    ("ＰＩＮ：９８７６", "9876"),
    ("pin1234 で合ってますか", "1234"),
    ("PINコードは 3690", "3690"),
    ("ピンは4321です", "4321"),
    ("ピン番号は 1470", "1470"),
    ("ぴんこーどは 7410", "7410"),
    # the signing password and the other two card PINs, named by what they are for
    ("署名用のは ABCD1234 です", "ABCD1234"),
    ("署名用パスワードは MYNA2025X です", "MYNA2025X"),
    ("署名用電子証明書のパスワードはABCDE12345", "ABCDE12345"),
    ("しょめいようのパスワード AB12CD34", "AB12CD34"),
    ("署名よう は ZX81ZX81", "ZX81ZX81"),
    ("署名用電子証明書のパスワードは\nABC123DEF", "ABC123DEF"),
    ("利用者証明用は 2468 です", "2468"),
    ("利用者証明用電子証明書の暗証番号 1593", "1593"),
    ("りようしゃしょうめいようは7531", "7531"),
    ("券面事項入力補助用は 9512", "9512"),
    ("券面事項入力補助用の暗証番号は３５７９", "3579"),
    ("けんめんじこうにゅうりょくほじょようは 8426", "8426"),
    ("ケンメン入力補助用 6420", "6420"),
    ("暗証番号は1234で、署名用はABCD5678です", "1234"),
    ("暗証番号は1234で、署名用はABCD5678です", "ABCD5678"),
    ("利用者証明用は1111、券面事項入力補助用は2222です", "2222"),
    # My Numbers, with no word needed
    ("マイナンバーは123456789012です", "123456789012"),
    ("1234.5678.9012", "123456789012"),
    ("1234 5678 9012", "123456789012"),
    ("１２３４-５６７８-９０１２", "123456789012"),
    ("1234\n5678\n9012", "123456789012"),
    ("番号は\n1234 5678\n9012 です", "123456789012"),
    ("1234,5678,9012", "123456789012"),
    ("1234、5678、9012", "123456789012"),
    ("1234・5678・9012", "123456789012"),
    ("1234/5678/9012", "123456789012"),
    ("１２３４ー５６７８ー９０１２", "123456789012"),
    ("1234－5678－9012", "123456789012"),
    ("1234—5678—9012 です", "123456789012"),
    ("1 2 3 4 5 6 7 8 9 0 1 2", "123456789012"),
    ("0123-4567-8901 です", "012345678901"),
    ("マイナンバー: 123 456 789 012", "123456789012"),
    ("私の番号は１２３４５６７８９０１２です。", "123456789012"),
    ("1234-5678-9012\nです", "123456789012"),
    ("個人番号 1234 5678 9012 と 暗証番号 4321", "123456789012"),
    ("個人番号 1234 5678 9012 と 暗証番号 4321", "4321"),
    ("電話は090-1111-2222、番号は 9876 5432 1098", "987654321098"),
    ("暗証番号は 4321 です。電話は0120-95-0178", "4321"),
]

# Separators residents put between digits: taken out before looking for what is left of a secret.
_SPREAD = re.compile("[\\s.,、・/\\-‐‑‒–—―−ー]")


def _leftovers(text: str, secret: str) -> list[str]:
    """Pieces of a secret still readable in the text: the whole of it, or any four of its digits in a row."""
    plain = _SPREAD.sub("", unicodedata.normalize("NFKC", text)).lower()
    digits = "".join(char for char in secret if char.isdigit())
    pieces = [secret.lower(), *(digits[i : i + 4] for i in range(len(digits) - 3))]
    return [piece for piece in pieces if piece in plain]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_no_part_of_a_secret_is_left(text: str, secret: str) -> None:
    redaction = redact_personal_numbers(text)
    assert redaction.found
    assert MARKER in redaction.text
    assert _leftovers(redaction.text, secret) == []


def test_the_secrets_table_checks_what_it_claims() -> None:
    assert all(_leftovers(text, secret) for text, secret in SECRETS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ﾊﾟｽﾜｰﾄﾞはXYZ98765です", f"ﾊﾟｽﾜｰﾄﾞは{M}です"),
        ("ＰＩＮ１２３４です", f"ＰＩＮ{M}です"),
        ("暗証番号は\n1234\nです", f"暗証番号は\n{M}\nです"),
        ("暗証番号は 1 2 3 4 です", f"暗証番号は {M} です"),
        ("暗証番号は1234で5回まちがえました", f"暗証番号は{M}で5回まちがえました"),
        ("電話は090-1111-2222、番号は 9876 5432 1098", f"電話は090-1111-2222、番号は {M}"),
    ],
)
def test_only_the_secret_is_replaced(text: str, expected: str) -> None:
    assert redact_personal_numbers(text).text == expected


# Ordinary sentences with numbers, many beside a PIN word: the guide quotes these and residents type them.
KEPT = [
    "2025年4月1日に申請しました",
    "手数料は1,980円ですか",
    "暗証番号の再設定は0570-783-578に電話すればいいですか",
    "コールセンター 0120-95-0178 に電話しました",
    "暗証番号のことで 0120 95 0178 に電話しました",
    "0120950178 に暗証番号のことで電話しました",
    "電話 03-1234-5678 で暗証番号を聞けますか",
    "090-1234-5678 に暗証番号の件で電話ください",
    "暗証番号は4桁、署名用パスワードは6文字以上16文字以下です",
    "暗証番号を5回目で間違えました",
    "パスワードを3回まちがえてロックされました",
    "〒123-4567 の区役所で暗証番号を変えられますか",
    "郵便番号は123-4567です。暗証番号をかえたいです",
    "暗証番号の受付は 8:30 から 17:15 までです",
    "暗証番号を 2025/4/1 に変えました",
    "暗証番号の変更は 2025.4.1 からです",
    "12/25 に暗証番号を変えました",
    "暗証番号の再設定に 1,000 円かかりますか",
    "暗証番号の再発行は￥1,000ですか",
    "暗証番号を入れたら 20,000 ポイントもらえますか",
    "パスワードは英数字6文字以上です",
    "署名用電子証明書は5年で切れます",
    "利用者証明用電子証明書の有効期限は2030年です",
    "券面事項入力補助用の暗証番号は4桁の数字です",
    "マイナンバーカードには12桁の番号が書いてあります",
    "暗証番号を忘れた人は 3 番の窓口へ行けばいいですか",
    "パスポートの番号を 1234 と書きました",
    "80歳の母の暗証番号がわかりません",
    "手順2と手順3がわかりません",
    "ピントが合わないので 2 枚目を撮りました",
    "iPhone 15 を使っています",
    "マイナポイントは 20000 円分です",
    "令和7年4月1日から暗証番号が変わりますか",
    "暗証番号は 1 日 3 回まで試せますか",
    "暗証番号を変えたのは 2024 年の 10 月です",
    "暗証番号は半年前に変えました。整理券は 5821 番でした",
    "暗証番号のことで区役所に行ったら、整理券の番号は 5821 でした",
    "暗証番号の手続きは 9時から17時までですか",
    "署名用のパスワードは 16 文字までですか",
    "暗証番号がロックされたのは 2 回目です",
    "",
    "はい",
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_sentences_stay_exactly_as_typed(text: str) -> None:
    assert redact_personal_numbers(text) == Redaction(text, found=False)


# Answers to "暗証番号を入れてください": just the PIN, with no PIN word in them.
PIN_ONLY_ANSWERS = [
    ("1234", "1234"),
    ("１２３４です", "1234"),
    ("abc12345", "abc12345"),
    ("ABCD1234EF", "ABCD1234EF"),
    ("1 2 3 4", "1234"),
    ("1-2-3-4 です", "1234"),
    ("たぶん 0315 です", "0315"),
    ("えっと、９８７６かな", "9876"),
    ("1234\n", "1234"),
    ("4321だと思います", "4321"),
    # Far from the start, after a sentence about something else (found in a trial: it was kept).
    ("4けたのほう。たしか 1234 やったと思うんやけど", "1234"),
    ("すみません、よくわからないのですが、前に窓口で決めたのは 5580 だったかもしれません", "5580"),
]


@pytest.mark.parametrize(("text", "secret"), PIN_ONLY_ANSWERS)
def test_a_bare_pin_is_removed_when_one_was_asked_for(text: str, secret: str) -> None:
    redaction = redact_personal_numbers(text, pin_expected=True)
    assert redaction.found
    assert MARKER in redaction.text
    assert _leftovers(redaction.text, secret) == []


@pytest.mark.parametrize(("text", "secret"), PIN_ONLY_ANSWERS)
def test_a_bare_number_stays_when_no_pin_was_asked_for(text: str, secret: str) -> None:
    assert redact_personal_numbers(text) == Redaction(text, found=False)


@pytest.mark.parametrize(
    "text",
    [
        "3回まちがえました",
        "4桁ですか",
        "忘れました",
        "2025年4月1日に作りました",
        "0120-95-0178 に電話します",
        "6文字以上16文字以下ですか",
        "1,980円かかりますか",
        "5回目です",
        "わかりません",
    ],
)
def test_other_answers_to_a_pin_question_stay(text: str) -> None:
    assert redact_personal_numbers(text, pin_expected=True) == Redaction(text, found=False)


@pytest.mark.parametrize(
    "text",
    [
        "暗証番号を入力してください",
        "暗しょう番号をわすれました",
        "あんしょうばんごう",
        "ｱﾝｼｮｳﾊﾞﾝｺﾞｳ",
        "パスワードがわかりません",
        "ﾊﾟｽﾜｰﾄﾞ",
        "ぱすこーど",
        "PINを忘れた",
        "ｐｉｎ",
        "ピンを3回まちがえた",
        "署名用電子証明書のパスワード（英数字6〜16文字）",
        "利用者証明用電子証明書",
        "券面事項入力補助用",
        "password",
    ],
)
def test_pin_words_are_recognised_in_every_spelling(text: str) -> None:
    assert mentions_pin(text)


@pytest.mark.parametrize(
    "text",
    [
        "マイナンバーカードを受け取りたい",
        "パスポートを更新したい",
        "ピンクの封筒が届きました",
        "ショッピングで使えますか",
        "ピントが合いません",
        "スピンドル",
        "番号を教えてください",
        "バスで行きます",
        "",
    ],
)
def test_other_words_are_not_taken_for_pin_words(text: str) -> None:
    assert not mentions_pin(text)


def test_the_marker_itself_is_not_a_finding() -> None:
    assert redact_personal_numbers(f"前に{M}と出ました").found is False


def test_privacy_runs_on_the_engines_python_310() -> None:
    source = Path(bot.privacy.__file__).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 10))
