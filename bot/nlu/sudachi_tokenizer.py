"""A Rasa tokenizer for Japanese built on Sudachi.

Each token keeps the resident's own characters and offsets (``text``, ``start``, ``end``),
takes Sudachi's normalised form as its lemma (引越し and 引っ越し meet) and carries its
reading in katakana (``token.get("reading")``), so that kana-only input meets kanji input.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalize import normalize, to_katakana

READING = "reading"
SPLIT_MODES = ("A", "B", "C")
DICTIONARIES = ("small", "core", "full")
# Sudachi refuses very long input; longer text is analysed in pieces of this many characters.
_CHUNK = 2000


class SudachiConfigError(ValueError):
    """The tokenizer's settings in config.yml are not valid."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SudachiTokenizer(Tokenizer):
    """Splits Japanese text into words with Sudachi."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Only Japanese."""
        return ["ja"]

    @staticmethod
    def required_packages() -> list[str]:
        """Sudachi and a dictionary edition."""
        return ["sudachipy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Split mode B (middle-length units) and the core dictionary."""
        return {
            "split_mode": "B",
            "dictionary": "core",
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        mode = str(config.get("split_mode", "B")).upper()
        if mode not in SPLIT_MODES:
            raise SudachiConfigError(
                f"config.yml: SudachiTokenizer split_mode is {config.get('split_mode')!r}; "
                f"use one of {', '.join(SPLIT_MODES)}."
            )
        dictionary = str(config.get("dictionary", "core"))
        if dictionary not in DICTIONARIES:
            raise SudachiConfigError(
                f"config.yml: SudachiTokenizer dictionary is {dictionary!r}; "
                f"use one of {', '.join(DICTIONARIES)} and install sudachidict-{dictionary}."
            )
        self._split_mode = mode
        self._dictionary = dictionary
        self._sudachi: Any = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SudachiTokenizer:
        """Creates the tokenizer; the dictionary is opened on first use."""
        return cls(config)

    def _analyser(self) -> Any:
        if self._sudachi is None:
            from sudachipy import Dictionary, SplitMode

            try:
                dictionary = Dictionary(dict=self._dictionary)
            except Exception as error:  # sudachipy raises its own untyped errors
                raise SudachiConfigError(
                    f"config.yml: Sudachi dictionary {self._dictionary!r} could not be opened "
                    f"({error}); install sudachidict-{self._dictionary}."
                ) from error
            self._sudachi = dictionary.tokenizer(mode=getattr(SplitMode, self._split_mode))
        return self._sudachi

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        source = message.get(attribute) or ""
        return self._apply_token_pattern(self.tokens_for(source))

    def tokens_for(self, source: str) -> list[Token]:
        """Sudachi tokens for a text, with offsets into the text as the resident wrote it."""
        normalized = normalize(source)
        analyser = self._analyser()
        tokens: list[Token] = []
        fallback: list[Token] = []
        for offset in range(0, len(normalized.text), _CHUNK):
            chunk = normalized.text[offset : offset + _CHUNK]
            for morpheme in analyser.tokenize(chunk):
                start, end = normalized.source_span(offset + morpheme.begin(), offset + morpheme.end(), len(source))
                surface = source[start:end]
                if not surface.strip():
                    continue
                reading = morpheme.reading_form() or morpheme.surface()
                token = Token(
                    surface,
                    start,
                    end,
                    data={READING: to_katakana(reading)},
                    lemma=morpheme.normalized_form(),
                )
                if _is_punctuation(surface):
                    fallback.append(token)
                else:
                    tokens.append(token)
        # Punctuation-only messages still need one token for the featurizers.
        return tokens or fallback[:1]


def _is_punctuation(surface: str) -> bool:
    """Punctuation and spaces carry no meaning for intents; the long-vowel mark ー does."""
    return all(unicodedata.category(char)[0] in "PZ" for char in surface)
