"""Where one row's time goes in the executor, phase by phase; prints JSON.

Run from the project root (under a minute per database):

    .venv/bin/python bench/bench_row_phases.py [--database sqlite|postgres] [--rows 300]

A job of ``--rows`` rows is run as in ``bench_executor.py`` (fresh database,
sandbox in another process answering ``--latency-ms`` after the request
arrived), with timers wrapped around the executor's steps in this process:
the checksum re-read, phase A, phase B, the ship call (timed on the thread
that makes it), the wait for the call thread to start it, and the wait for
its answer to reach the executor. It prints each step's median and mean in
milliseconds. Phase B and the next row's checksum re-read overlap the
current ship call, so they are not on the critical path; the others are.
No target: this explains bench_executor's figure, it does not judge it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_executor import ExecutorBench
from harness import Sandbox, environment, make_operator, setup_django


class StepTimes:
    """Durations in seconds by step name, and the moments that link two threads."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.call_submitted: float | None = None
        self.call_answered: float | None = None

    def timed(self, owner: Any, name: str, step: str) -> None:
        """Replace ``owner.name`` by a wrapper that adds each call's duration to ``step``."""
        real = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds[step].append(time.perf_counter() - started)

        setattr(owner, name, wrapper)

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            step: {
                "median_ms": round(statistics.median(values) * 1000, 3),
                "mean_ms": round(statistics.mean(values) * 1000, 3),
                "count": len(values),
            }
            for step, values in self.seconds.items()
        }


def instrument(times: StepTimes) -> None:
    from jobs.services.call_thread import CallThread
    from jobs.services.execution import Executor
    from jobs.services.recording import ShipmentRecorder
    from ups.client import UpsClient

    times.timed(Executor, "_source_problem", "checksum_reread")
    times.timed(UpsClient, "prepare_ship", "request_built")
    times.timed(Executor, "_mark_in_flight", "phase_a")
    times.timed(ShipmentRecorder, "record", "phase_b")
    real_start, real_ship, real_result = CallThread.start, UpsClient.send_ship, Future.result

    def start(self: CallThread, call: Callable[[], Any]) -> Future[Any]:
        times.call_submitted = time.perf_counter()
        return real_start(self, call)

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        if times.call_submitted is not None:
            times.seconds["call_thread_start"].append(began - times.call_submitted)
            times.call_submitted = None
        try:
            return real_ship(self, *args, **kwargs)
        finally:
            times.call_answered = time.perf_counter()
            times.seconds["ship_call"].append(times.call_answered - began)

    def result(self: Future[Any], timeout: float | None = None) -> Any:
        value = real_result(self, timeout)
        if times.call_answered is not None:
            times.seconds["answer_handover"].append(time.perf_counter() - times.call_answered)
            times.call_answered = None
        return value

    CallThread.start = start  # type: ignore[method-assign]
    UpsClient.send_ship = ship  # type: ignore[method-assign]
    Future.result = result  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    args.repeat = 1
    with tempfile.TemporaryDirectory(prefix="shipops-bench-") as folder:
        bench = ExecutorBench(args, Path(folder))
        setup_django()
        bench.operator = make_operator()
        with Sandbox(bench.env, Path(folder) / "sandbox.log") as sandbox:
            bench.sandbox = sandbox
            bench._execute(10, 0)  # warm up: token, connections, imports
            times = StepTimes()
            instrument(times)
            wall = bench._execute(args.rows, args.latency_ms)
    ideal = args.rows * args.latency_ms / 1000
    report = {
        "environment": environment(),
        "database": args.database,
        "rows": args.rows,
        "latency_ms": args.latency_ms,
        "wall_seconds": round(wall, 3),
        "ratio": round(wall / ideal, 4) if ideal else None,
        "per_row_ms": round(wall / args.rows * 1000, 2),
        "steps": times.summary(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
