"""The 介護 and 車 procedures of the national list (facts §5.6.6, §5.6.8), as residents meet them.

Found by the words residents use for them, and each says the timing residents miss before the form.
"""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from bot.city import JAPAN, load_city
from bot.glossary import load_glossary
from bot.guide import Guide, GuideState
from bot.procedures import load_catalog
from bot.wording import load_wording

CATALOG = load_catalog()
MONDAY_MORNING = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN)


@pytest.fixture(scope="module")
def guide() -> Guide:
    city = load_city()
    online = replace(city, online_services=dict.fromkeys(city.online_services, True))
    return Guide(CATALOG, online, load_glossary(), load_wording(), clock=lambda: MONDAY_MORNING)


@pytest.mark.parametrize(
    ("intent", "words", "procedure"),
    [
        ("nursing_care", "母の要介護認定を申し込みたい", "nursing_care"),
        ("nursing_care", "介護の認定の更新をしたい", "care_renewal"),
        ("nursing_care", "かいごにんていのこうしん", "care_renewal"),
        ("nursing_care", "介護度を見直してほしいんやけど", "care_level_change"),
        ("nursing_care", "ケアプランを頼む届けを出したい", "care_plan_notice"),
        ("nlu_fallback", "ケアマネさんが決まったけん届けば出したか", "care_plan_notice"),
        ("nursing_care", "負担割合証をなくしてしまった", "care_copay_card_reissue"),
        ("nursing_care", "介護保険証をなくしました", "care_insurance_card_reissue"),
        ("nursing_care", "高額介護サービス費の申請書が届いた", "care_high_cost"),
        ("nursing_care", "ショートステイの食費を安くしてほしい", "care_cost_limit"),
        # 杖 is a 福祉用具 to buy; 手すり is 住宅改修 only when it is fitted (the purchase file points there).
        ("nursing_care", "杖や手すりの購入費", "care_equipment_purchase"),
        ("nursing_care", "ぽーたぶるといれを買いました", "care_equipment_purchase"),
        ("nursing_care", "手すりの取り付け工事をしたい", "care_home_modification"),
        ("nursing_care", "受給資格証明書をもらってきました", "care_after_move"),
        ("car_ownership", "車庫証明をネットで取りたい", "car_ownership"),
        ("car_ownership", "しゃこしょうめい", "car_ownership"),
        ("car_ownership", "環境性能割の申告をしたい", "car_environment_tax"),
        ("car_ownership", "自動車税の申告書を出したい", "car_tax_report"),
        ("car_ownership", "引っ越したので車検証の住所を変えたい", "car_tax_address"),
    ],
)
def test_found_by_how_residents_name_it(guide: Guide, intent: str, words: str, procedure: str) -> None:
    turn = guide.respond(GuideState(), intent, text=words)
    assert turn.state.procedure == procedure
    assert CATALOG[procedure].summary in "\n".join(reply.params.get("summary", "") for reply in turn.replies)


@pytest.mark.parametrize(
    ("procedure", "timing"),
    [
        ("care_renewal", "期限の前"),
        ("care_level_change", "有効期間の途中"),
        ("care_plan_notice", "使い始める前"),
        ("care_high_cost", "2年"),
        ("care_cost_limit", "さかのぼれない"),
        ("care_equipment_purchase", "指定"),
        ("care_home_modification", "工事の前に、事前申請"),
        ("care_after_move", "14日以内"),
        ("car_ownership", "15日以内"),
        ("car_tax_address", "15日以内"),
    ],
)
def test_the_timing_residents_miss_is_said_before_the_form(procedure: str, timing: str) -> None:
    steps = CATALOG[procedure].steps
    form = next(i for i, step in enumerate(steps) if step.id in ("fill_form", "sign"))
    said = [CATALOG[procedure].summary]
    for step in steps[:form]:
        said += [step.text, *(choice.reply for choice in step.choices)]
    assert any(timing in text for text in said)


@pytest.mark.parametrize(
    "words",
    [
        "マイナンバーカードの有効期限が切れた",
        "カードの更新の申請をしたい",
        "マイナンバーを変えたい",
        "住民税の納税通知書が届かない",
        "給食費を安くしたい",
        "カードの状態が悪くなった",
        "国民健康保険の被保険者証の再交付",
        "医療費が上限を超えた分を返してほしい",
        "エアコンを取り付ける工事",
    ],
)
def test_words_of_other_topics_open_no_care_or_car_procedure(guide: Guide, words: str) -> None:
    # Names are read across the catalog when the model understood nothing: a care or car name must not be so
    # common that a question about the card, taxes or health insurance opens 介護 or 車.
    found = guide.wanted(GuideState(), "nlu_fallback", words)
    assert found is None or CATALOG[found].area not in ("介護", "車"), found
