"""Train the engine's model only when what it is trained from changed, and keep only the newest few models.

Run in the engine environment (``make model`` does):
``python scripts/train_model.py --config config.yml --domain domain.yml --data data/nlu data/rules.yml --out models``.

The model file is named after a hash of its inputs (config, domain, training data, the custom NLU components'
code and the Rasa version): ``models/mynaguide-<hash>.tar.gz``. When that file exists it is reused (and marked
newest, since Rasa loads the newest model in the folder); otherwise ``rasa train`` writes it. Every ``rasa
train`` writes a new ~50 MB file even when nothing changed, which is what this avoids.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_PREFIX = "mynaguide-"
# The pipeline's own components (config.yml names them): a change in their code changes the model.
COMPONENT_SOURCES = (ROOT / "bot" / "nlu",)


def input_files(paths: Iterable[Path]) -> list[Path]:
    """Every file under the given files and folders, in a stable order, leaving out caches and hidden files."""
    found: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise SystemExit(f"train_model: {path} does not exist; check the paths given to --config/--domain/--data")
        candidates = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
        for item in candidates:
            parts = item.relative_to(path.parent).parts
            if any(part.startswith(".") or part == "__pycache__" for part in parts) or item.suffix == ".pyc":
                continue
            found.add(item.resolve())
    return sorted(found)


def inputs_hash(files: list[Path], rasa_version: str) -> str:
    """A short hash of the files' paths and contents and of the Rasa version."""
    digest = hashlib.sha256(f"rasa {rasa_version}\n".encode())
    for file in files:
        try:
            name = file.relative_to(ROOT).as_posix()
        except ValueError:
            name = file.as_posix()
        digest.update(f"{name}\n{file.stat().st_size}\n".encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def prune(models: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest models in the folder; return what was removed."""
    archives = sorted(models.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime, reverse=True)
    removed = archives[keep:]
    for archive in removed:
        archive.unlink()
    return removed


def main(argv: list[str] | None = None) -> int:
    """Reuse or train the model for the current inputs, then prune old models."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--domain", type=Path, required=True)
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--keep", type=int, default=3, help="how many models to keep, newest first (default 3)")
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1: the model in use is always kept")
    files = input_files([args.config, args.domain, *args.data, *COMPONENT_SOURCES])
    name = MODEL_PREFIX + inputs_hash(files, importlib.metadata.version("rasa"))
    model = args.out / f"{name}.tar.gz"
    if model.is_file():
        os.utime(model)  # newest, so that Rasa loads it from the folder
        print(f"model up to date: {model} (config, domain and data unchanged)")
    else:
        print(f"training {model}: config, domain or data changed since the last model")
        rasa = Path(sys.executable).parent / "rasa"
        command = [str(rasa), "train", "--config", str(args.config), "--domain", str(args.domain), "--data"]
        command += [str(path) for path in args.data]
        command += ["--out", str(args.out), "--fixed-model-name", name, "--quiet"]
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            return result.returncode
        if not model.is_file():
            print(f"train_model: rasa train did not write {model}", file=sys.stderr)
            return 1
    for removed in prune(args.out, args.keep):
        print(f"removed old model {removed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
