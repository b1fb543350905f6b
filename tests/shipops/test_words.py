"""Counted nouns in operators' messages."""

from __future__ import annotations

import pytest

from shipops.words import counted
from ups.classify import CallInfo, error_from_answer


@pytest.mark.parametrize(
    ("count", "said"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (1000, "1000 rows")]
)
def test_a_count_of_one_takes_the_singular(count: int, said: str) -> None:
    assert counted(count, "row") == said


def test_a_noun_with_its_own_plural() -> None:
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(("retry_after", "said"), [("1", "1 second."), ("7", "7 seconds.")])
def test_ups_asking_to_wait_one_second_says_second(retry_after: str, said: str) -> None:
    error = error_from_answer(429, {}, {"Retry-After": retry_after}, CallInfo("rate request"))
    assert f"UPS asks to wait {said}" in error.message
