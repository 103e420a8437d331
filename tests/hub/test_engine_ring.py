"""Routing conversations to engine processes: the same engine every turn, the next one when it is down."""

from __future__ import annotations

import itertools
from collections import Counter

from yarl import URL

from bot.hub.engine_ring import EngineRing

ENGINES = [URL(f"http://127.0.0.1:{port}") for port in (5005, 5006, 5007)]
CONVERSATIONS = [f"web:{number:04d}" for number in range(3000)]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_conversation_goes_to_the_same_engine_every_time_and_in_every_hub() -> None:
    first, second = EngineRing(ENGINES), EngineRing(list(reversed(ENGINES)))
    for conversation in CONVERSATIONS[:200]:
        assert first.candidates(conversation)[0] == first.candidates(conversation)[0]
        assert first.order(conversation) == second.order(conversation)
        assert sorted(first.order(conversation)) == sorted(ENGINES)


def test_conversations_are_shared_out_roughly_evenly() -> None:
    owners = Counter(EngineRing(ENGINES).order(conversation)[0] for conversation in CONVERSATIONS)
    assert set(owners) == set(ENGINES)
    assert min(owners.values()) > len(CONVERSATIONS) / len(ENGINES) * 0.8


def test_only_a_down_engines_conversations_move_and_they_come_back() -> None:
    clock = Clock()
    ring = EngineRing(ENGINES, retry_after=2.0, clock=clock)
    before = {conversation: ring.candidates(conversation)[0] for conversation in CONVERSATIONS}
    ring.refused(ENGINES[0])
    during = {conversation: ring.candidates(conversation)[0] for conversation in CONVERSATIONS}
    for conversation in CONVERSATIONS:
        if before[conversation] == ENGINES[0]:
            assert during[conversation] == ring.order(conversation)[1]
        else:
            assert during[conversation] == before[conversation]
    assert ENGINES[0] not in during.values()
    clock.now += 2.0
    assert {conversation: ring.candidates(conversation)[0] for conversation in CONVERSATIONS} == before


def test_when_every_engine_refused_all_are_still_tried() -> None:
    ring = EngineRing(ENGINES, clock=Clock())
    for engine in ENGINES:
        ring.refused(engine)
    assert sorted(ring.candidates("web:0001")) == sorted(ENGINES)


def test_an_engine_that_answers_takes_its_conversations_back_at_once() -> None:
    ring = EngineRing(ENGINES, clock=Clock())
    owned = next(c for c in CONVERSATIONS if ring.order(c)[0] == ENGINES[1])
    ring.refused(ENGINES[1])
    assert ring.candidates(owned)[0] != ENGINES[1]
    ring.answered(ENGINES[1])
    assert ring.candidates(owned)[0] == ENGINES[1]


def test_adding_an_engine_moves_only_the_conversations_it_takes() -> None:
    small, large = EngineRing(ENGINES[:2]), EngineRing(ENGINES)
    moved = [c for c in CONVERSATIONS if small.order(c)[0] != large.order(c)[0]]
    assert all(large.order(c)[0] == ENGINES[2] for c in moved)
    assert len(moved) < len(CONVERSATIONS) / 2
    assert list(itertools.islice(moved, 1))
