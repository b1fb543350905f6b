"""The write-back buffer's flush schedule: coalesced, and spaced out after a slow flush."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.conf import LazySettings

from datasources.adapters.base import WriteBack
from jobs.actors import system_actor
from jobs.models import JobRow
from jobs.services import writeback
from jobs.services.lease import Lease
from jobs.services.writeback import FLUSH_SPACING, WritebackBuffer
from jobs.states import JobStatus
from tests.factories import DataSourceFactory, JobFactory, ShippedJobRowFactory
from tests.fixtures.sources import FakeSourceAdapter


class Clock:
    """Stands in for ``time`` in the write-back module: it moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class TimedAdapter(FakeSourceAdapter):
    """Records each write-back; each one takes ``write_seconds`` on the clock."""

    def __init__(self, clock: Clock, write_seconds: float) -> None:
        super().__init__(DataSourceFactory.build(key_column="order_id"))
        self.clock = clock
        self.write_seconds = write_seconds
        self.flushes: list[list[str]] = []

    def write_back(self, updates: Sequence[WriteBack]) -> None:
        self.flushes.append([update.key for update in updates])
        self.clock.now += self.write_seconds


@pytest.fixture(autouse=True)
def five_second_interval(settings: LazySettings) -> None:
    settings.SHIPOPS_WRITEBACK_FLUSH_SECONDS = 5


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(writeback, "time", fake)
    return fake


@pytest.fixture
def rows(db: None) -> list[JobRow]:
    job = JobFactory.create(status=JobStatus.RUNNING, fencing_token=7)
    return ShippedJobRowFactory.create_batch(4, job=job)


def make_buffer(clock: Clock, rows: list[JobRow], write_seconds: float) -> WritebackBuffer:
    return WritebackBuffer(
        adapter=TimedAdapter(clock, write_seconds),
        key_column="order_id",
        lease=Lease(job_id=rows[0].job_id, token=7, owner="test"),
        actor=system_actor("worker"),
        last_flush=clock.now,
    )


def add(buffer: WritebackBuffer, row: JobRow, *, after: float, clock: Clock) -> None:
    """Add ``row``'s tracking number ``after`` seconds past the end of the last flush."""
    clock.now = buffer.last_flush + after
    update = WriteBack(row.source_key, row.tracking_number, row.updated_at)
    buffer.add(row.pk, update)


def flushed(buffer: WritebackBuffer) -> list[list[str]]:
    assert isinstance(buffer.adapter, TimedAdapter)
    return buffer.adapter.flushes


def test_a_fast_flush_is_followed_by_the_next_at_the_set_interval(
    clock: Clock, rows: list[JobRow]
) -> None:
    buffer = make_buffer(clock, rows, write_seconds=0.01)

    add(buffer, rows[0], after=4.9, clock=clock)
    assert flushed(buffer) == []
    add(buffer, rows[1], after=5, clock=clock)
    add(buffer, rows[2], after=5, clock=clock)

    assert flushed(buffer) == [[rows[0].source_key, rows[1].source_key], [rows[2].source_key]]
    assert buffer.pending == {}
    assert set(JobRow.objects.values_list("writeback_status", flat=True)) == {"written", "pending"}


def test_a_slow_flush_delays_the_next_by_its_duration_times_the_spacing(
    clock: Clock, rows: list[JobRow]
) -> None:
    buffer = make_buffer(clock, rows, write_seconds=2)
    due = FLUSH_SPACING * 2  # 40 s, not 5

    add(buffer, rows[0], after=5, clock=clock)
    add(buffer, rows[1], after=5, clock=clock)
    add(buffer, rows[2], after=due - 0.1, clock=clock)
    assert flushed(buffer) == [[rows[0].source_key]]
    assert list(buffer.pending) == [rows[1].pk, rows[2].pk]

    add(buffer, rows[3], after=due, clock=clock)
    assert flushed(buffer)[1:] == [[row.source_key for row in rows[1:]]]
    assert buffer.pending == {}


def test_no_interval_flushes_after_every_row_however_slow(
    settings: LazySettings, clock: Clock, rows: list[JobRow]
) -> None:
    settings.SHIPOPS_WRITEBACK_FLUSH_SECONDS = 0
    buffer = make_buffer(clock, rows, write_seconds=2)

    for row in rows:
        add(buffer, row, after=0, clock=clock)

    assert flushed(buffer) == [[row.source_key] for row in rows]


def test_flush_writes_what_is_pending_whenever_it_is_called(
    clock: Clock, rows: list[JobRow]
) -> None:
    # At a batch's end, at a stop and at a hand-over, the spacing does not apply.
    buffer = make_buffer(clock, rows, write_seconds=2)
    for row, after in ((rows[0], 5), (rows[1], 1)):
        add(buffer, row, after=after, clock=clock)
    buffer.flush()

    assert flushed(buffer) == [[rows[0].source_key], [rows[1].source_key]]
    assert set(JobRow.objects.values_list("writeback_status", flat=True)) == {"written", "pending"}
