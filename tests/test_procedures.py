"""The procedure loader accepts the catalog and rejects broken files, naming the file, field and fix."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.city import CityError, load_city
from bot.procedures import PROCEDURE_INTENTS, CatalogError, load_catalog, parse_procedure

ROOT = Path(__file__).resolve().parent.parent
FACTS_PHONE = "0120-95-0178"


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "data/procedures/portal_login.yml").read_text(encoding="utf-8"))


def test_catalog_has_every_procedure_intent() -> None:
    catalog = load_catalog()
    assert sorted(catalog) == sorted(PROCEDURE_INTENTS)
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


def test_city_file_without_phone_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config/city.yml").read_text(encoding="utf-8"))
    del data["helpdesk"]["phone"]
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CityError, match="phone"):
        load_city(path)
