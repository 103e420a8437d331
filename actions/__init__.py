"""Custom actions run by Rasa's action server (rasa run actions --actions actions)."""
