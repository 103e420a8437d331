"""The channel tests use the fake engine and hub fixtures shared with the hub tests."""

from tests.hub.fixtures import fake_engine, hub, make_hub

__all__ = ["fake_engine", "hub", "make_hub"]
