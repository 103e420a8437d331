"""`make model` trains only when an input changed, reuses the model otherwise and keeps the newest three."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_model", ROOT / "scripts" / "train_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_model"] = module
    spec.loader.exec_module(module)
    return module


train_model = load_script()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small project: config, domain, training data in nested folders, and NLU component code."""
    (tmp_path / "data" / "nlu" / "topics").mkdir(parents=True)
    (tmp_path / "config.yml").write_text("language: ja\n", encoding="utf-8")
    (tmp_path / "domain.yml").write_text("intents: [greet]\n", encoding="utf-8")
    (tmp_path / "data" / "rules.yml").write_text("rules: []\n", encoding="utf-8")
    (tmp_path / "data" / "nlu" / "topics" / "login.yml").write_text("- ログインできません\n", encoding="utf-8")
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "tokenizer.py").write_text("SPLIT = 'C'\n", encoding="utf-8")
    monkeypatch.setattr(train_model, "COMPONENT_SOURCES", (tmp_path / "components",))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def current_hash(rasa_version: str = "3.6.21") -> str:
    """The hash of the project's inputs, as `make model` passes them."""
    inputs = ["config.yml", "domain.yml", "data/nlu", "data/rules.yml"]
    files = train_model.input_files([*map(Path, inputs), *train_model.COMPONENT_SOURCES])
    return str(train_model.inputs_hash(files, rasa_version))


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("config.yml", "language: ja\npipeline: []\n"),
        ("domain.yml", "intents: [greet, goodbye]\n"),
        ("data/rules.yml", "rules: [{rule: x}]\n"),
        ("data/nlu/topics/login.yml", "- ログインできない\n"),
        ("data/nlu/topics/new_topic.yml", "- 新しい話題\n"),
        ("components/tokenizer.py", "SPLIT = 'A'\n"),
    ],
)
def test_any_change_to_an_input_changes_the_model_name(project: Path, path: str, content: str) -> None:
    before = current_hash()
    (project / path).write_text(content, encoding="utf-8")
    assert current_hash() != before


def test_caches_and_hidden_files_do_not_count(project: Path) -> None:
    before = current_hash()
    (project / "components" / "__pycache__").mkdir()
    (project / "components" / "__pycache__" / "tokenizer.cpython-310.pyc").write_bytes(b"\x00")
    (project / "data" / "nlu" / ".login.yml.swp").write_bytes(b"\x00")
    assert current_hash() == before


def test_a_new_rasa_version_changes_the_model_name(project: Path) -> None:
    files = train_model.input_files([Path("config.yml")])
    assert train_model.inputs_hash(files, "3.6.21") != train_model.inputs_hash(files, "3.6.22")


def make_models(folder: Path, names: list[str]) -> None:
    """Model files, newest first."""
    folder.mkdir(exist_ok=True)
    for age, name in enumerate(names):
        path = folder / name
        path.write_bytes(b"model")
        os.utime(path, (1_700_000_000 - age * 60, 1_700_000_000 - age * 60))


def test_an_unchanged_project_reuses_its_model_and_keeps_the_newest_three(project: Path) -> None:
    current = f"mynaguide-{current_hash(importlib.metadata.version('rasa'))}.tar.gz"
    # The current model is the oldest file: it must be reused, made newest, and survive the pruning.
    make_models(project / "models", ["20261127-a.tar.gz", "20261126-b.tar.gz", "20261125-c.tar.gz", current])
    arguments = ["--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu", "data/rules.yml"]
    assert train_model.main([*arguments, "--out", "models", "--keep", "3"]) == 0
    kept = sorted(path.name for path in (project / "models").glob("*.tar.gz"))
    assert kept == sorted([current, "20261127-a.tar.gz", "20261126-b.tar.gz"])
    newest = max((project / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    assert newest.name == current


def test_prune_removes_the_oldest(tmp_path: Path) -> None:
    make_models(tmp_path, ["new.tar.gz", "mid.tar.gz", "old.tar.gz", "older.tar.gz", "oldest.tar.gz"])
    removed = train_model.prune(tmp_path, keep=3)
    assert sorted(path.name for path in removed) == ["older.tar.gz", "oldest.tar.gz"]
    assert sorted(path.name for path in tmp_path.glob("*.tar.gz")) == ["mid.tar.gz", "new.tar.gz", "old.tar.gz"]
