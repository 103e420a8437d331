"""The procedure loader accepts the catalog and rejects broken files, naming the file, field and fix."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.city import CityError, load_city
from bot.plain_japanese import check_message
from bot.procedure_report import report
from bot.procedures import (
    PROCEDURE_INTENTS,
    CatalogError,
    all_texts,
    load_catalog,
    load_flows,
    parse_flow,
    parse_procedure,
)

ROOT = Path(__file__).resolve().parent.parent
FACTS_PHONE = "0120-95-0178"


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "data/procedures/portal_login.yml").read_text(encoding="utf-8"))


# The 子育て 15 and the 罹災証明書 of the national list of 31 (facts §5.6.0), by file.
CHILDREN_AND_DISASTER = {
    "child_allowance": "子育て",
    "child_allowance_revision": "子育て",
    "child_allowance_change": "子育て",
    "child_allowance_end": "子育て",
    "child_allowance_unpaid": "子育て",
    "child_allowance_donation": "子育て",
    "child_allowance_donation_change": "子育て",
    "child_allowance_school_fees": "子育て",
    "child_allowance_school_fees_change": "子育て",
    "child_allowance_status": "子育て",
    "childcare": "子育て",
    "childcare_certification": "子育て",
    "childcare_status": "子育て",
    "child_support_allowance_status": "子育て",
    "pregnancy": "子育て",
    "disaster_certificate": "災害",
}


def test_catalog_has_every_procedure_intent() -> None:
    catalog = load_catalog()
    assert {procedure.intent for procedure in catalog.values()} == set(PROCEDURE_INTENTS)
    assert {key: catalog[key].area for key in CHILDREN_AND_DISASTER} == CHILDREN_AND_DISASTER
    city = load_city()
    for key in CHILDREN_AND_DISASTER:
        assert catalog[key].flow == "pittari" and catalog[key].city_key == key in city.online_services, key
    for procedure in catalog.values():
        assert procedure.sources and procedure.checked <= datetime.date.today()
        assert procedure.steps


def test_lost_card_leads_with_the_24_hour_line() -> None:
    lost = load_catalog()["card_lost"]
    assert lost.urgent and FACTS_PHONE in lost.urgent[0]


def test_no_procedure_asks_for_a_pin_in_the_chat() -> None:
    for procedure in load_catalog().values():
        for step in procedure.steps:
            for text in (step.text, step.plain, *step.devices.values()):
                assert "ここに入力" not in text and "チャットに入力" not in text, (procedure.id, step.id)


def test_no_procedure_promises_mynapoint() -> None:
    for procedure in load_catalog().values():
        words = " ".join([procedure.summary, procedure.done_next, *(s.text for s in procedure.steps)])
        assert "マイナポイントがもらえ" not in words, procedure.id


def mutate(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(data)
    target = broken
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["title"], KeyError, "field 'title'"),
        (["title"], "とても長いタイトルで二十文字をこえてしまう名前です", "20 characters"),
        (["steps"], [], "at least one step"),
        (["steps", 0, "plain"], KeyError, "field 'plain'"),
        (["steps", 0, "problems"], [], "1 to 3 causes"),
        (["steps", 0, "devices"], {"ipad": "x"}, "unknown devices"),
        (["help"], ["mayor"], "unknown contacts"),
        (["sources"], [{"url": "not a link", "title": "x"}], "web address"),
        (["checked"], "yesterday", "date like"),
        (["id"], "moving", "file name"),
    ],
)
def test_broken_file_is_rejected_with_field_and_fix(
    good: dict[str, Any], path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(CatalogError, match=message) as error:
        parse_procedure(mutate(good, path, value), "data/procedures/portal_login.yml", expected_id="portal_login")
    assert "portal_login.yml" in str(error.value)


def test_plain_equal_to_text_is_rejected(good: dict[str, Any]) -> None:
    broken = mutate(good, ["steps", 0, "plain"], good["steps"][0]["text"])
    with pytest.raises(CatalogError, match="plainer"):
        parse_procedure(broken, "portal_login.yml")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "portal_login.yml").write_text(
        (ROOT / "data/procedures/portal_login.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="no file for"):
        load_catalog(tmp_path)


@pytest.mark.parametrize("missing", ["general_contact", "general_contact.phone"])
def test_city_file_without_the_main_line_is_rejected(tmp_path: Path, missing: str) -> None:
    data = yaml.safe_load((ROOT / "config/city.yml").read_text(encoding="utf-8"))
    if "." in missing:
        del data["general_contact"]["phone"]
    else:
        del data["general_contact"]
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CityError, match="general_contact"):
        load_city(path)


def test_city_file_without_phone_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config/city.yml").read_text(encoding="utf-8"))
    del data["helpdesk"]["phone"]
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CityError, match="phone"):
        load_city(path)


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([{"id": "a", "label": "はい", "then": "next"}], "at least 2 answers"),
        (
            [{"id": "a", "label": "はい", "then": "nowhere"}, {"id": "b", "label": "いいえ", "then": "next"}],
            "goes to 'nowhere'",
        ),
        (
            [{"id": "a", "label": "はい", "then": "end"}, {"id": "b", "label": "いいえ", "then": "next"}],
            "needs a 'reply'",
        ),
        (
            [
                {"id": "a", "label": "はい", "then": "next", "intent": "maybe"},
                {"id": "b", "label": "いいえ", "then": "next"},
            ],
            "field 'intent'",
        ),
    ],
)
def test_broken_choices_are_rejected_with_field_and_fix(
    good: dict[str, Any], choices: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(CatalogError, match=message) as error:
        parse_procedure(mutate(good, ["steps", 0, "choices"], choices), "data/procedures/portal_login.yml")
    assert "portal_login.yml" in str(error.value)
    assert "steps[0]" in str(error.value) or "steps.install_app" in str(error.value)


def test_every_choice_and_problem_word_is_typed_text(good: dict[str, Any]) -> None:
    broken = mutate(good, ["steps", 0, "problems", 0, "words"], "つながらない")
    with pytest.raises(CatalogError, match="words a resident might type"):
        parse_procedure(broken, "data/procedures/portal_login.yml")


def test_city_hours_are_validated_and_read_in_japan_time(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config/city.yml").read_text(encoding="utf-8"))
    hours = load_city().helpdesk.open
    assert hours is not None
    monday_morning = datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.timezone.utc)  # 10:00 in Japan
    assert hours.is_open(monday_morning)
    assert not hours.is_open(monday_morning + datetime.timedelta(hours=12))
    assert hours.spoken_next_opening(monday_morning + datetime.timedelta(hours=12)) == "明日の8時30分"
    new_year = datetime.datetime(2026, 12, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    assert not hours.is_open(new_year) and hours.spoken_next_opening(new_year) == "1月4日（月曜日）の8時30分"
    # Public holidays come from a maintained calendar, not the city's list: 成人の日 2027 is Monday 11 January.
    coming_of_age_day = datetime.datetime(2027, 1, 11, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    assert not hours.is_open(coming_of_age_day)
    assert hours.spoken_next_opening(coming_of_age_day) == "明日の8時30分"
    assert hours.is_open(coming_of_age_day + datetime.timedelta(days=1))
    data["helpdesk"]["open"] = {"weekdays": "8時半から"}
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CityError, match=r"open\.weekdays"):
        load_city(path)


def test_staff_report_shows_each_procedure_as_a_resident_meets_it() -> None:
    text = report()
    catalog = load_catalog()
    for procedure in catalog.values():
        assert f"# {procedure.title}" in text
        for step in procedure.steps:
            assert step.text in text or all(v in text for v in step.devices.values()), step.id
    assert "をご案内します" in text and "[できました | できません" in text
    assert "選択「登録しない」→ 案内を終える" in text
    city = load_city()
    for procedure in catalog.values():
        if procedure.city_key is not None:
            offered = "ネット可" if city.online_services.get(procedure.city_key) else "窓口のみ"
            assert f"- {offered}  {procedure.title}  ({procedure.id}.yml;" in text, procedure.id
    assert "窓口のみ  児童手当の寄附の申出" in text and "ネット可  児童手当の認定請求" in text
    assert "「保育の支給認定の申請」をご案内します" in text, (
        "a procedure of a family opens itself, not the question which"
    )


# --- shared flows and families ------------------------------------------------------------------
@pytest.fixture(scope="module")
def on_flow() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "data/procedures/child_allowance.yml").read_text(encoding="utf-8"))


FLOWS = load_flows()


def test_a_procedure_on_a_flow_gets_the_flow_steps_filled_in_with_its_own_put_in(on_flow: dict[str, Any]) -> None:
    procedure = parse_procedure(on_flow, "child_allowance.yml", flows=FLOWS)
    ids = [step.id for step in procedure.steps]
    flow_ids = list(FLOWS["pittari"].step_ids)
    assert [i for i in ids if i in flow_ids] == flow_ids
    assert ids.index("check_timing") == ids.index("check_certificate") - 1  # `at` puts it just before
    search = next(step for step in procedure.steps if step.id == "choose_city")
    assert "「児童手当」" in search.text and "{" not in search.text
    sign = next(step for step in procedure.steps if step.id == "sign")
    assert "受け取る人本人のカード" in sign.text
    assert "別の人のカード" in sign.problems[0].cause, "the procedure's own problem comes first"
    assert procedure.prepare[0] == "受け取る人本人のマイナンバーカード" and len(procedure.prepare) == 4
    assert any("ぴったりサービス" in source.title for source in procedure.sources)


def test_a_flow_step_that_needs_an_unfilled_slot_is_left_out(on_flow: dict[str, Any]) -> None:
    without = copy.deepcopy(on_flow)
    del without["fill"]["attach"]
    del without["problems"]["attach"]
    ids = [step.id for step in parse_procedure(without, "child_allowance.yml", flows=FLOWS).steps]
    assert "attach" not in ids and "sign" in ids


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["flow"], "oss_typo", "no file in data/procedures/flows/"),
        (["fill", "search_word"], KeyError, "needs 'fill.search_word'"),
        (["fill", "colour"], "あか", "no slot for"),
        (["steps", 0, "at"], "nowhere", "steps\\[0\\].at must name where"),
        (["problems", "nowhere"], [{"cause": "x", "fix": "y"}], "field 'problems' must map step ids"),
        (
            ["problems", "sign"],
            [{"cause": "a", "fix": "b"}, {"cause": "c", "fix": "d"}],
            "at most 3",
        ),
        (["intent"], "pregnant", "not a procedure intent"),
        (["area"], "ペット", "field 'area'"),
        (["label"], "とても長いボタンの名前になります", "field 'label'"),
    ],
)
def test_a_broken_flow_procedure_names_file_field_and_fix(
    on_flow: dict[str, Any], path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(CatalogError, match=message) as error:
        parse_procedure(mutate(on_flow, path, value), "data/procedures/child_allowance.yml", flows=FLOWS)
    assert "child_allowance.yml" in str(error.value)


def test_a_flow_using_an_undeclared_slot_is_rejected() -> None:
    data = yaml.safe_load((ROOT / "data/procedures/flows/pittari.yml").read_text(encoding="utf-8"))
    data["steps"][0]["text"] = "「{city_name}」を選んでください。"
    with pytest.raises(CatalogError, match="city_name"):
        parse_flow(data, "flows/pittari.yml")
    data = yaml.safe_load((ROOT / "data/procedures/flows/pittari.yml").read_text(encoding="utf-8"))
    data["steps"][0]["needs"] = ["colour"]
    with pytest.raises(CatalogError, match="needs must list slots"):
        parse_flow(data, "flows/pittari.yml")


def test_a_family_needs_names_that_tell_its_procedures_apart(tmp_path: Path, on_flow: dict[str, Any]) -> None:
    for path in (ROOT / "data/procedures").glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "flows").mkdir()
    for path in (ROOT / "data/procedures/flows").glob("*.yml"):
        (tmp_path / "flows" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    twin = {**copy.deepcopy(on_flow), "id": "child_allowance_twin", "names": ["ふたご"]}
    (tmp_path / "child_allowance_twin.yml").write_text(yaml.safe_dump(twin, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="at most 11 buttons"):
        load_catalog(tmp_path)
    twin = {**copy.deepcopy(on_flow), "id": "child_allowance_twin", "intent": "pregnancy"}
    (tmp_path / "child_allowance_twin.yml").write_text(yaml.safe_dump(twin, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="also a name of"):
        load_catalog(tmp_path)
    twin["names"] = ["ふたご"]
    del twin["area"]
    (tmp_path / "child_allowance_twin.yml").write_text(yaml.safe_dump(twin, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="give this one 'area' and 'names'"):
        load_catalog(tmp_path)


def test_the_oss_flow_expands_for_a_car_procedure_and_its_wording_is_plain() -> None:
    garage = {
        "id": "car_garage",
        "intent": "car_ownership",
        "area": "車",
        "names": ["車庫証明"],
        "title": "車庫証明",
        "summary": "車を置く場所の証明を、ネットで申請します。",
        "for_whom": "車の持ち主です。",
        "flow": "oss",
        "fill": {"form_name": "保管場所証明", "fees": "手数料"},
        "done": {"summary": "申請を送りました。", "next": "標章は警察署で受け取ります。"},
        "help": ["city_helpdesk"],
        "sources": [{"url": "https://www.pref.niigata.lg.jp/site/kenkei/tetuzuki-syako-oss-oss.html", "title": "x"}],
        "checked": datetime.date(2026, 11, 29),
    }
    procedure = parse_procedure(garage, "car_garage.yml", flows=FLOWS)
    ids = [step.id for step in procedure.steps]
    assert ids[0] == "check_kei" and "pay" in ids and "attach" not in ids
    assert any("「保管場所証明」" in step.text for step in procedure.steps)
    assert [(where, b) for where, text in all_texts(procedure) for b in check_message(text)] == []
