"""The hub's tests use the fake engine and hub fixtures shared with the channel tests."""

from tests.hub.fixtures import fake_engine, hub, make_hub

__all__ = ["fake_engine", "hub", "make_hub"]
