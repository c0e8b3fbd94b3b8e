"""Workers that take turns sleep while they wait, and no wake-up is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tfthreads.process import tasks


def _signal_later(folder: Path, name: str, seconds: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), tasks._signal(folder, name)))
    thread.start()
    return thread


def test_a_waiting_worker_sleeps_and_wakes_when_its_sibling_signals(tmp_path: Path) -> None:
    # Earlier turns' files, as a round leaves them: the old 1 ms look took 0.145 s of
    # CPU per second of waiting beside 200 of them (2-CPU AMD EPYC); asleep, 0.009 s.
    for turn in range(200):
        (tmp_path / f"done-0-{turn + 100}-1").touch()
    sibling = _signal_later(tmp_path, "done-0-7", 1.0)
    cpu, wall = time.thread_time(), time.perf_counter()
    tasks._wait_for(tmp_path, "done-0-7", 1, 30, "turns")
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    sibling.join()
    assert wall >= 0.9
    assert cpu < 0.05, f"{cpu:.3f} s of CPU time to wait {wall:.2f} s"
    assert not list(tmp_path.glob("wake-*")), "the waiter's pipe is left behind"


def test_a_signal_left_before_the_wait_is_seen_at_once(tmp_path: Path) -> None:
    tasks._signal(tmp_path, "done-0-3")  # nobody waits yet: nothing to wake
    start = time.perf_counter()
    tasks._wait_for(tmp_path, "done-0-3", 1, 30, "turns")
    assert time.perf_counter() - start < 1.0


def test_a_group_waits_for_every_member(tmp_path: Path) -> None:
    first = _signal_later(tmp_path, "done-1-0", 0.2)
    # The second member of the group signals from another "process": another pid.
    second = threading.Thread(
        target=lambda: (
            time.sleep(0.6),
            (tmp_path / "done-1-0-999999").touch(),
            tasks._wake(tmp_path, "wake-done-1-0-*"),
        )
    )
    second.start()
    start = time.perf_counter()
    tasks._wait_for(tmp_path, "done-1-0", 2, 30, "turns")
    assert time.perf_counter() - start >= 0.5
    first.join()
    second.join()


def test_an_abort_ends_the_wait_with_the_siblings_failure(tmp_path: Path) -> None:
    def abort() -> None:
        time.sleep(0.2)
        (tmp_path / "abort").touch()
        tasks._wake(tmp_path, "wake-*")

    thread = threading.Thread(target=abort)
    thread.start()
    with pytest.raises(RuntimeError, match="turns: "):
        tasks._wait_for(tmp_path, "done-0-5", 1, 30, "turns")
    thread.join()


def test_waking_a_waiter_that_has_just_gone_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race that broke every round of compare_many on two equal settings: the
    # signaller opens a waiter's pipe, the waiter sees the file, closes its pipe and
    # goes, and the byte written then meets no reader (EPIPE).
    import os

    pipe = tmp_path / "wake-done-0-1-99"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    real_open = os.open

    def open_then_reader_goes(path: object, flags: int, *args: object) -> int:
        descriptor = real_open(path, flags, *args)
        os.close(reader)
        return descriptor

    monkeypatch.setattr(tasks.os, "open", open_then_reader_goes)
    tasks._wake(tmp_path, "wake-done-0-1-*")  # no BrokenPipeError


def test_the_first_turn_starts_once_every_sibling_sleeps(tmp_path: Path) -> None:
    # Two siblings that go to sleep for their first turns of workload 1, one after the
    # other; a pipe of another workload does not count.
    (tmp_path / "wake-done-10-0-99").touch()
    asleep: list[threading.Thread] = []
    for pid, seconds in ((1, 0.3), (2, 0.6)):
        asleep.append(
            threading.Thread(
                target=lambda pid=pid, seconds=seconds: (
                    time.sleep(seconds),
                    (tmp_path / f"wake-done-1-{pid - 1}-{pid}").touch(),
                )
            )
        )
        asleep[-1].start()
    start = time.perf_counter()
    first = next(tasks._chunks({"dir": str(tmp_path), "slot": 0, "count": 3, "chunks": 2}, 1, 10))
    waited = time.perf_counter() - start
    for thread in asleep:
        thread.join()
    assert first == 5
    assert waited >= 0.6


def test_the_first_turn_does_not_wait_for_a_sibling_that_failed(tmp_path: Path) -> None:
    (tmp_path / "abort").touch()
    turns = {"dir": str(tmp_path), "slot": 0, "count": 2, "chunks": 2, "timeout": 30}
    with pytest.raises(RuntimeError, match="sibling"):
        next(tasks._chunks(turns, 0, 10))
