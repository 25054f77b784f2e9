"""check.no_cyclic_gc: the collector off during the check, then back on without walking what the check built."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from python_checks.check import no_cyclic_gc


@pytest.fixture
def collector_on() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.enable()
    yield
    if not enabled:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_what_the_check_built_lands_in_the_oldest_generation() -> None:
    with no_cyclic_gc():
        assert not gc.isenabled()
        built = [[index] for index in range(50_000)]  # far past the youngest generation's threshold
        marker = built[-1]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # moved, not frozen: still collectable later
    # Left in the youngest generation, the next allocation would make the collector walk all of it.
    assert gc.get_count()[0] < 100
    assert not any(item is marker for item in gc.get_objects(generation=0))
    assert any(item is marker for item in gc.get_objects(generation=2))


def test_a_collector_that_was_off_stays_off() -> None:
    enabled = gc.isenabled()
    gc.disable()
    try:
        with no_cyclic_gc():
            pass
        assert not gc.isenabled()
    finally:
        if enabled:
            gc.enable()
