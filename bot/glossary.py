"""Plain explanations of jargon (data/glossary.yml), given the first time a term appears."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY_FILE = ROOT / "data" / "glossary.yml"


class GlossaryError(ValueError):
    """The glossary file is malformed."""


def load_glossary(path: Path = GLOSSARY_FILE) -> dict[str, str]:
    """Term → one-sentence explanation, longest terms first so 署名用電子証明書 wins over 電子証明書."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise GlossaryError(f"{path}: cannot be read ({error}).") from error
    terms = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(terms, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in terms.items()):
        raise GlossaryError(f"{path}: expected 'terms:' mapping each term to its explanation.")
    return dict(sorted(terms.items(), key=lambda item: -len(item[0])))


def terms_to_explain(text: str, glossary: dict[str, str], explained: set[str]) -> list[str]:
    """Terms in the text not yet explained in this conversation, in order of appearance."""
    found: list[tuple[int, str]] = []
    covered: list[tuple[int, int]] = []
    for term in glossary:
        position = text.find(term)
        if position < 0:
            continue
        span = (position, position + len(term))
        # A term inside a longer term already found (電子証明書 in 署名用電子証明書) is not repeated.
        if any(start <= span[0] and span[1] <= end for start, end in covered):
            continue
        covered.append(span)
        if term not in explained:
            found.append((position, term))
    return [term for _, term in sorted(found)]
