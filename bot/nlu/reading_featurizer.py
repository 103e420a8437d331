"""Character n-grams over Sudachi readings, so that まいなぽーたる meets マイナポータル."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.sudachi_tokenizer import READING


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class ReadingFeaturizer(CountVectorsFeaturizer):
    """Counts character n-grams of each token's katakana reading instead of its spelling.

    Needs the SudachiTokenizer before it in the pipeline; other attributes (intents,
    action names) are featurised as the plain CountVectorsFeaturizer does.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Character n-grams of length 1 to 3 within each reading."""
        return {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3}

    def _get_message_tokens_by_attribute(self, message: Message, attribute: str) -> list[str]:
        tokens = message.get(TOKENS_NAMES[attribute]) or []
        if attribute != TEXT:
            return super()._get_message_tokens_by_attribute(message, attribute)
        return [token.get(READING) or token.text for token in tokens]
