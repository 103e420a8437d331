"""Bench experiment only (issue 8): the Sudachi tokenizer, made acceptable to Rasa's SpacyFeaturizer.

Rasa 3.6's ``SpacyFeaturizer`` lists ``SpacyTokenizer`` as a required component, a pipeline may hold
only one tokenizer, and its token vectors (one per non-blank token of the spaCy ``Doc`` that
``SpacyNLP`` made) must line up one-to-one with the other featurizers' tokens, or DIET cannot
stack the sparse and dense sequence features. GiNZA cuts words differently from our Sudachi
tokenizer (split mode C, punctuation kept, no normalisation), so the counts differ.

This class is our ``SudachiTokenizer`` (same tokens, readings and normalised lemmas) that also
counts as a ``SpacyTokenizer``; after tokenizing it replaces the message's spaCy ``Doc`` with one
made of exactly those tokens, so ``SpacyFeaturizer`` gives each Sudachi token the GiNZA model's
static word vector: looked up by Sudachi's normalised form when the model has a vector for it,
else by the text as written (zeros when it has neither). Not used by ``config.yml``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, SPACY_DOCS
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.sudachi_tokenizer import SudachiTokenizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SudachiSpacyTokenizer(SudachiTokenizer, SpacyTokenizer):
    """Sudachi tokens; the message's spaCy Doc rebuilt on them for the SpacyFeaturizer."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["sudachipy", "spacy"]

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = SudachiTokenizer.tokenize(self, message, attribute)
        if attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            doc = message.get(SPACY_DOCS[attribute])
            if doc is not None:
                message.set(SPACY_DOCS[attribute], _doc_on_tokens(doc.vocab, tokens))
        return tokens


def _vector_key(vocab: Any, token: Token) -> str:
    """The spelling whose vector the token gets: normalised form, else as written, else lower case."""
    for key in (token.lemma, token.text, token.text.lower()):
        if key and vocab.has_vector(key):
            return key
    return token.text


def _doc_on_tokens(vocab: Any, tokens: list[Token]) -> Any:
    from spacy.tokens import Doc

    return Doc(vocab, words=[_vector_key(vocab, token) for token in tokens])
