"""Rasa graph components for Japanese: the Sudachi tokenizer and the reading featurizer."""
