"""Thread inventory from /proc: real process, fake trees and errors."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tfthreads.errors import UnsupportedPlatformError
from tfthreads.inventory import ThreadInfo, ThreadInventory, classify, diff, inventory


@pytest.mark.parametrize(
    ("name", "pool"),
    [
        ("tf_Compute", "inter-op pool"),
        ("tf_numa_-1_Eige", "intra-op pool (Eigen)"),
        ("tf_data_private", "tf.data private pool"),
        ("tf_data_prefetc", "tf.data"),
        ("tf_graph_runner", "graph runner"),
        ("tf_gpu_private_", "GPU host threads"),
        ("tf_something", "other TensorFlow"),
        ("python", "unnamed"),
    ],
)
def test_classify(name, pool):
    assert classify(name) == pool


def test_inventory_sees_a_new_named_thread():
    before = inventory()
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="inventory-test")
    worker.start()
    try:
        after = inventory()
    finally:
        stop.set()
        worker.join()
    # Python 3.11 does not set OS thread names, so the new thread keeps the process name.
    new = diff(before, after)
    assert sum(new.values()) == 1
    assert after.count == before.count + 1
    groups = {group.name: group for group in after.groups()}
    assert sum(group.count for group in groups.values()) == after.count
    assert after.as_dict()["count"] == after.count


def test_main_thread_cpu_time_follows_the_work_it_does():
    # This test runs in the main thread, whose id is the process id.
    def main_thread():
        return next(thread for thread in inventory().threads if thread.tid == os.getpid())

    before, thread_clock = main_thread(), time.thread_time()
    while time.thread_time() - thread_clock < 0.5:  # half a second of this thread's CPU
        pass
    after = main_thread()
    spent = time.thread_time() - thread_clock
    assert after.state == "running"  # it is reading its own /proc entry
    # /proc counts in clock ticks (usually 10 ms): allow two ticks either way.
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert after.cpu_seconds - before.cpu_seconds == pytest.approx(spent, abs=2 * tick)


def test_fake_proc_tree(tmp_path):
    task = tmp_path / "42" / "task"
    for tid, name, state, utime, stime in (
        (42, "python", "S", 250, 50),
        (43, "tf_Compute", "R", 0, 0),
    ):
        (task / str(tid)).mkdir(parents=True)
        (task / str(tid) / "comm").write_text(name + "\n")
        fields = [state, *["0"] * 10, str(utime), str(stime)]
        (task / str(tid) / "stat").write_text(
            f"{tid} (a name) with) spaces) {' '.join(fields)} 0 0\n"
        )
    result = inventory(42, proc=tmp_path)
    assert [(t.tid, t.name, t.state) for t in result.threads] == [
        (42, "python", "sleeping"),
        (43, "tf_Compute", "running"),
    ]
    assert result.threads[0].cpu_seconds == pytest.approx(300 / os.sysconf("SC_CLK_TCK"))
    assert [g.active for g in result.groups()] == [1, 0]


def test_schedstat_gives_cpu_time_finer_than_a_clock_tick(tmp_path):
    # 8 ms of CPU is less than one 10 ms tick: stat says 0, schedstat says 8 ms.
    thread = tmp_path / "42" / "task" / "42"
    thread.mkdir(parents=True)
    (thread / "comm").write_text("python\n")
    (thread / "stat").write_text(f"42 (python) {' '.join(['S', *['0'] * 12])} 0 0\n")
    (thread / "schedstat").write_text("8000000 120 3\n")
    (only,) = inventory(42, proc=tmp_path).threads
    assert only.cpu_seconds == pytest.approx(0.008)


def test_missing_process(tmp_path):
    (tmp_path / "self").mkdir()
    with pytest.raises(ProcessLookupError, match="no process with pid 999999"):
        inventory(999999, proc=tmp_path)


def test_not_a_proc_file_system(tmp_path):
    with pytest.raises(UnsupportedPlatformError, match="thread inventories need Linux"):
        inventory(1, proc=tmp_path / "nowhere")


def test_diff_refuses_two_processes():
    a = ThreadInventory(1, (ThreadInfo(1, "a", "running", 0.0),))
    b = ThreadInventory(2, ())
    with pytest.raises(ValueError, match="different processes"):
        diff(a, b)
