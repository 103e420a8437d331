"""The engine's own code that runs inside Rasa's server: how it is started and the hub's input channel."""
