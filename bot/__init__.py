"""The assistant's own package: Japanese NLU components, the procedure catalog, the hub."""
