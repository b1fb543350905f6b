"""The transition tables: every legal edge passes, a sample of illegal ones is refused clearly."""

from __future__ import annotations

import itertools

import pytest

from jobs.states import (
    JOB_FINAL_STATUSES,
    JOB_TRANSITIONS,
    ROW_TRANSITIONS,
    WRITEBACK_TRANSITIONS,
    JobStatus,
    RowStatus,
    WritebackStatus,
    check_job_transition,
    check_row_transition,
    check_writeback_transition,
)
from shipops.errors import DomainError

J, R = JobStatus, RowStatus


def test_every_status_has_a_row_in_its_table() -> None:
    assert set(JOB_TRANSITIONS) == set(JobStatus.values)
    assert set(ROW_TRANSITIONS) == set(RowStatus.values)
    assert set(WRITEBACK_TRANSITIONS) == set(WritebackStatus.values)


def test_design_happy_paths_are_legal() -> None:
    path = [J.DRAFT, J.PREVIEWING, J.PREVIEWED, J.APPROVED, J.RUNNING, J.COMPLETED]
    for current, target in itertools.pairwise(path):
        check_job_transition(job_label="Job 1", current=current, target=target)
    check_job_transition(job_label="Job 1", current=J.DRAFT, target=J.APPROVED)  # auto mode
    check_job_transition(job_label="Job 1", current=J.RUNNING, target=J.INTERRUPTED)
    row_path = [R.PENDING, R.IN_FLIGHT, R.SHIPPED, R.VOIDED]
    for row_current, row_target in itertools.pairwise(row_path):
        check_row_transition(row_label="Row 1", current=row_current, target=row_target)


def test_completed_and_cancelled_are_final() -> None:
    assert {J.COMPLETED, J.CANCELLED} == JOB_FINAL_STATUSES


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (J.COMPLETED, J.RUNNING),
        (J.CANCELLED, J.APPROVED),
        (J.DRAFT, J.RUNNING),
        (J.PREVIEWING, J.APPROVED),
        (J.APPROVED, J.PREVIEWING),
        (J.RUNNING, J.DRAFT),
        (J.INTERRUPTED, J.COMPLETED),
        (J.FAILED, J.COMPLETED),
    ],
)
def test_illegal_job_transitions_are_refused_with_a_code(current: str, target: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_job_transition(job_label="Job 7", current=current, target=target)
    assert refused.value.code == "illegal_transition"
    assert refused.value.details == {"from": current, "to": target}
    assert str(refused.value).startswith(f"Job 7 is {JobStatus(current).label.lower()}")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (R.SHIPPED, R.PENDING),
        (R.SHIPPED, R.FAILED),
        (R.PENDING, R.SHIPPED),
        (R.UNKNOWN, R.FAILED),
        (R.CANCELLED, R.PENDING),
        (R.VOIDED, R.SHIPPED),
    ],
)
def test_illegal_row_transitions_are_refused_with_a_code(current: str, target: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_row_transition(row_label="Job 7 row 3", current=current, target=target)
    assert refused.value.code == "illegal_transition"


def test_refusal_names_what_is_allowed() -> None:
    with pytest.raises(DomainError) as refused:
        check_job_transition(job_label="Job 7", current=J.APPROVED, target=J.COMPLETED)
    assert refused.value.message == (
        "Job 7 is approved and cannot become completed. "
        "From approved it can only become: cancelled, interrupted, running."
    )


def test_refusal_from_a_final_status_says_it_is_final() -> None:
    with pytest.raises(DomainError) as refused:
        check_job_transition(job_label="Job 7", current=J.COMPLETED, target=J.RUNNING)
    assert (
        refused.value.message == "Job 7 is completed and cannot become running. Completed is final."
    )


def test_unknown_status_is_its_own_error() -> None:
    with pytest.raises(DomainError) as refused:
        check_row_transition(row_label="Row 1", current="exploded", target=R.PENDING)
    assert refused.value.code == "unknown_status"


def test_writeback_cannot_skip_back_from_pending_to_pending() -> None:
    with pytest.raises(DomainError):
        check_writeback_transition(
            row_label="Row 1", current=WritebackStatus.PENDING, target=WritebackStatus.PENDING
        )
