"""DIET's intent ranking blended with a character n-gram logistic regression trained on the same data.

On questions written by people outside the project, a plain character TF-IDF + logistic-regression
classifier made different mistakes from DIET (bench/nlu_bench.py): averaging the two rankings
keeps DIET's strength on short replies and the regression's on long, formal or oddly spelt
questions. The regression reads the text as typed and the Sudachi readings, so a homophone typed
with the wrong kanji (暗唱番号, 証明所) still meets the right words.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.normalize import normalize
from bot.nlu.sudachi_tokenizer import READING

logger = logging.getLogger(__name__)
MODEL_FILE = "char_ngram_blender.joblib"
# Parse output key with both rankings before blending, so the bench can sweep the weight afterwards.
SOURCES = "intent_ranking_sources"
RANKING_LENGTH = 10


class BlenderConfigError(ValueError):
    """The blender's settings in config.yml are not valid."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CharNgramBlender(GraphComponent, IntentClassifier):
    """Replaces the intent ranking with `weight` × DIET + (1 − `weight`) × the n-gram regression.

    Put it after DIETClassifier and before FallbackClassifier, which then judges the blend.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Equal shares; n-grams of 1–4 characters of the text and 1–3 of the readings."""
        return {"weight": 0.5, "C": 10.0, "text_ngrams": [1, 4], "reading_ngrams": [1, 3]}

    @staticmethod
    def required_packages() -> list[str]:
        """scikit-learn, which Rasa brings."""
        return ["sklearn"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        weight = config["weight"]
        if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
            raise BlenderConfigError(f"CharNgramBlender: weight must be a number from 0 to 1, not {weight!r}")
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNgramBlender:
        """A blender still to be trained."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNgramBlender:
        """The trained regression from the model archive, or an untrained blender that leaves DIET's ranking."""
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("CharNgramBlender: no trained regression in the model; DIET's ranking is kept")
            model = None
        return cls(config, model_storage, resource, model)

    def _vectorizer(self, span: list[int], analyzer: str = "char_wb") -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyzer, ngram_range=(span[0], span[1]), sublinear_tf=True)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the regression on every intent example (a retrieval intent counts as one intent)."""
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            logger.warning("CharNgramBlender: fewer than two intents to learn; DIET's ranking is kept")
            return self._resource
        text_vectorizer = self._vectorizer(self._config["text_ngrams"])
        reading_vectorizer = self._vectorizer(self._config["reading_ngrams"])
        features = scipy.sparse.hstack(
            [
                text_vectorizer.fit_transform([_surface(e) for e in examples]),
                reading_vectorizer.fit_transform([_readings(e) for e in examples]),
            ]
        ).tocsr()
        regression = LogisticRegression(C=self._config["C"], max_iter=3000)
        regression.fit(features, labels)
        self._model = {"text": text_vectorizer, "reading": reading_vectorizer, "regression": regression}
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Blend each message's ranking; messages without text or a DIET ranking are left alone."""
        if self._model is None:
            return messages
        for message in messages:
            diet = {
                item[INTENT_NAME_KEY]: item[PREDICTED_CONFIDENCE_KEY] for item in message.get(INTENT_RANKING_KEY) or []
            }
            if not message.get(TEXT) or not diet:
                continue
            regression = self._regression_ranking(message)
            weight = float(self._config["weight"])
            blended = {
                name: weight * diet.get(name, 0.0) + (1.0 - weight) * regression.get(name, 0.0)
                for name in set(diet) | set(regression)
            }
            ranking = sorted(blended.items(), key=lambda item: item[1], reverse=True)[:RANKING_LENGTH]
            as_dicts = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: float(conf)} for name, conf in ranking]
            message.set(INTENT, as_dicts[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, as_dicts, add_to_output=True)
            top_regression = sorted(regression.items(), key=lambda item: item[1], reverse=True)[:RANKING_LENGTH]
            message.set(SOURCES, {"diet": diet, "char_ngram": dict(top_regression)}, add_to_output=True)
        return messages

    def _regression_ranking(self, message: Message) -> dict[str, float]:
        assert self._model is not None
        features = scipy.sparse.hstack(
            [
                self._model["text"].transform([_surface(message)]),
                self._model["reading"].transform([_readings(message)]),
            ]
        ).tocsr()
        regression: LogisticRegression = self._model["regression"]
        probabilities = np.asarray(regression.predict_proba(features))[0]
        return {str(name): float(p) for name, p in zip(regression.classes_, probabilities, strict=True)}


def _surface(message: Message) -> str:
    """The text as typed, NFKC-normalised like the tokenizer's input."""
    return normalize(message.get(TEXT) or "").text


def _readings(message: Message) -> str:
    """The katakana readings of the tokens, one word each (Sudachi's tokenizer attaches them)."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(token.get(READING) or token.text for token in tokens)
