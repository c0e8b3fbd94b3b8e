"""Tests for tfthreads.topology: fake cgroup/sysfs trees, the real machine, a narrowed mask."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfthreads.process import run_snippet
from tfthreads.topology import CgroupQuota, Topology, topology

CGROUP = Path("sys/fs/cgroup")


def write(root: Path, relative: str | Path, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def proc_cgroup(root: Path, *lines: str) -> None:
    write(root, "proc/self/cgroup", "".join(f"{line}\n" for line in lines))


def cgroup_v2(root: Path, group: str, cpu_max: dict[str, str]) -> None:
    """Write a v2 hierarchy; ``cpu_max`` maps group paths ("" = mount root) to cpu.max."""
    proc_cgroup(root, f"0::{group}")
    (root / CGROUP / group.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for path, value in cpu_max.items():
        write(root, CGROUP / path.lstrip("/") / "cpu.max", f"{value}\n")


def cgroup_v1_cpu(root: Path, directory: Path, quota: str, period: str = "100000") -> None:
    write(root, directory / "cpu.cfs_quota_us", f"{quota}\n")
    write(root, directory / "cpu.cfs_period_us", f"{period}\n")


def sysfs_cpus(root: Path, cpus: dict[int, tuple[int, int, str]], nodes: int = 0) -> None:
    """Write ``cpuN/topology`` for ``{cpu: (package, core, thread_siblings_list)}``."""
    cpu_dir = Path("sys/devices/system/cpu")
    write(root, cpu_dir / "online", f"0-{max(cpus)}\n")
    for cpu, (package, core, siblings) in cpus.items():
        topo = cpu_dir / f"cpu{cpu}" / "topology"
        write(root, topo / "physical_package_id", f"{package}\n")
        write(root, topo / "core_id", f"{core}\n")
        write(root, topo / "thread_siblings_list", f"{siblings}\n")
    for node in range(nodes):
        (root / "sys/devices/system/node" / f"node{node}").mkdir(parents=True)
    if nodes:
        write(root, "sys/devices/system/node/online", f"0-{nodes - 1}\n")


def make(quota: CgroupQuota | None, affinity: int) -> Topology:
    return Topology(
        logical_cpus=affinity,
        affinity=tuple(range(affinity)),
        physical_cores=None,
        sockets=None,
        numa_nodes=None,
        smt=None,
        quota=quota,
        cpuset=None,
    )


# --- cgroup v2 ---------------------------------------------------------------------


def test_v2_quota(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/app.slice/job", {"/app.slice/job": "150000 100000"})
    topo = topology(root=tmp_path, affinity=range(4))
    assert topo.quota == CgroupQuota(2, "/sys/fs/cgroup/app.slice/job", 150000, 100000)
    assert topo.quota_cpus == 1.5
    assert topo.cpu_budget == 1.5
    assert topo.oversubscribed
    assert "cgroup v2 quota: 1.5 CPUs" in topo.describe()


def test_v2_max_is_unlimited(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/user.slice", {"/user.slice": "max 100000"})
    topo = topology(root=tmp_path, affinity=range(2))
    assert topo.quota is not None
    assert topo.quota.quota_us is None
    assert topo.quota_cpus is None
    assert topo.cpu_budget == 2
    assert not topo.oversubscribed
    assert "cgroup v2 quota: none" in topo.describe()


def test_v2_nested_parent_is_tighter(tmp_path: Path) -> None:
    cgroup_v2(
        tmp_path,
        "/kubepods/pod1/ctr",
        {"/kubepods/pod1/ctr": "400000 100000", "/kubepods/pod1": "50000 50000", "": "max"},
    )
    topo = topology(root=tmp_path, affinity=range(8))
    assert topo.quota == CgroupQuota(2, "/sys/fs/cgroup/kubepods/pod1", 50000, 50000)
    assert topo.cpu_budget == 1.0


def test_v2_fractional_quota(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/", {"": "50000 100000"})
    topo = topology(root=tmp_path, affinity=[0, 1])
    assert topo.quota_cpus == 0.5
    assert topo.cpu_budget == 0.5
    assert topo.oversubscribed
    assert "CPU budget 0.5" in topo.describe()


def test_v2_missing_cpu_max(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/a/b", {})
    topo = topology(root=tmp_path, affinity=range(3))
    assert topo.quota is None
    assert topo.cpu_budget == 3


def test_v2_garbled_cpu_max_is_skipped(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/a/b", {"/a/b": "lots of cpu", "/a": "200000 100000"})
    topo = topology(root=tmp_path, affinity=range(4))
    assert topo.quota_cpus == 2.0
    # A non-positive quota or period is as garbled as text; with nothing else, no quota.
    write(tmp_path, CGROUP / "a/cpu.max", "-5 0\n")
    assert topology(root=tmp_path, affinity=range(4)).quota is None


def test_missing_proc_cgroup(tmp_path: Path) -> None:
    topo = topology(root=tmp_path, affinity=[0])
    assert topo.quota is None
    assert topo.cpuset is None
    assert topo.cpu_budget == 1
    assert "cgroup quota: not found" in topo.describe()


def test_cpuset_v2(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/job", {})
    write(tmp_path, CGROUP / "job/cpuset.cpus.effective", "0-2,5\n")
    assert topology(root=tmp_path, affinity=[0]).cpuset == (0, 1, 2, 5)


def test_cpuset_v1_container(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "3:cpuset:/docker/abc")
    write(tmp_path, CGROUP / "cpuset/cpuset.effective_cpus", "4-5\n")
    assert topology(root=tmp_path, affinity=[4]).cpuset == (4, 5)


# --- cgroup v1 ---------------------------------------------------------------------


def test_v1_quota(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "4:cpu,cpuacct:/docker/abc", "3:memory:/docker/abc")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu,cpuacct/docker/abc", "300000")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu,cpuacct", "-1")
    topo = topology(root=tmp_path, affinity=range(16))
    assert topo.quota == CgroupQuota(1, "/sys/fs/cgroup/cpu,cpuacct/docker/abc", 300000, 100000)
    assert topo.cpu_budget == 3.0
    assert topo.oversubscribed
    assert topo.tensorflow_default_threads == 16


def test_v1_unlimited(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "2:cpu:/user", "1:cpuacct:/user")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu/user", "-1")
    topo = topology(root=tmp_path, affinity=range(2))
    assert topo.quota == CgroupQuota(1, "/sys/fs/cgroup/cpu/user", None, 100000)
    assert topo.cpu_budget == 2
    assert "cgroup v1 quota: none" in topo.describe()


def test_v1_container_reads_mount_root(tmp_path: Path) -> None:
    # Inside a container the host path /docker/abc is not mounted: the files sit at the root.
    proc_cgroup(tmp_path, "4:cpu,cpuacct:/docker/abc")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu,cpuacct", "250000", "100000")
    topo = topology(root=tmp_path, affinity=range(4))
    assert topo.quota == CgroupQuota(1, "/sys/fs/cgroup/cpu,cpuacct", 250000, 100000)
    assert topo.cpu_budget == 2.5


def test_v1_garbled_quota(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "2:cpu:/")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu", "not-a-number")
    assert topology(root=tmp_path, affinity=[0, 1]).quota is None


def test_hybrid_prefers_v1_cpu(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "5:cpu,cpuacct:/job", "0::/job")
    cgroup_v1_cpu(tmp_path, CGROUP / "cpu,cpuacct/job", "100000")
    write(tmp_path, CGROUP / "unified/job/cpu.max", "300000 100000\n")
    topo = topology(root=tmp_path, affinity=range(4))
    assert topo.quota is not None
    assert topo.quota.version == 1
    assert topo.cpu_budget == 1.0


def test_hybrid_without_v1_cpu_uses_unified(tmp_path: Path) -> None:
    proc_cgroup(tmp_path, "3:memory:/job", "0::/job")
    write(tmp_path, CGROUP / "unified/job/cpu.max", "300000 100000\n")
    topo = topology(root=tmp_path, affinity=range(4))
    assert topo.quota == CgroupQuota(2, "/sys/fs/cgroup/unified/job", 300000, 100000)


def test_pid_reads_that_process_cgroup(tmp_path: Path) -> None:
    write(tmp_path, "proc/1234/cgroup", "0::/other\n")
    write(tmp_path, CGROUP / "other/cpu.max", "100000 100000\n")
    assert topology(root=tmp_path, pid=1234, affinity=range(2)).quota_cpus == 1.0
    assert topology(root=tmp_path, affinity=range(2)).quota is None


# --- budget ------------------------------------------------------------------------


def test_budget_is_affinity_when_quota_is_looser(tmp_path: Path) -> None:
    cgroup_v2(tmp_path, "/", {"": "800000 100000"})
    topo = topology(root=tmp_path, affinity=range(2))
    assert topo.cpu_budget == 2
    assert not topo.oversubscribed


def test_affinity_override_is_sorted_and_validated(tmp_path: Path) -> None:
    assert topology(root=tmp_path, affinity=[3, 1, 3]).affinity == (1, 3)
    with pytest.raises(ValueError, match="at least one CPU"):
        topology(root=tmp_path, affinity=[])


@given(
    quota=st.integers(min_value=1, max_value=10**9),
    period=st.integers(min_value=1, max_value=10**7),
    cpus=st.integers(min_value=1, max_value=1024),
)
def test_budget_never_exceeds_affinity(quota: int, period: int, cpus: int) -> None:
    topo = make(CgroupQuota(2, "/sys/fs/cgroup", quota, period), cpus)
    assert 0 < topo.cpu_budget <= topo.affinity_cpus
    assert topo.oversubscribed == (cpus > quota / period)


# --- sysfs topology ----------------------------------------------------------------


def test_sysfs_smt_single_socket(tmp_path: Path) -> None:
    sysfs_cpus(tmp_path, {0: (0, 0, "0,2"), 1: (0, 1, "1,3"), 2: (0, 0, "0,2"), 3: (0, 1, "1,3")})
    topo = topology(root=tmp_path, affinity=range(4))
    assert (topo.logical_cpus, topo.physical_cores, topo.sockets, topo.smt) == (4, 2, 1, True)
    assert topo.numa_nodes is None
    assert "4 logical CPUs (4 in affinity mask), 1 socket, 2 physical cores, SMT" in (
        topo.describe()
    )


def test_sysfs_two_sockets_numa(tmp_path: Path) -> None:
    # core_id repeats across packages, so cores are counted as (package, core) pairs.
    sysfs_cpus(tmp_path, {0: (0, 0, "0"), 1: (0, 1, "1"), 2: (1, 0, "2"), 3: (1, 1, "3")}, 2)
    topo = topology(root=tmp_path, affinity=[0])
    assert (topo.physical_cores, topo.sockets, topo.smt, topo.numa_nodes) == (4, 2, False, 2)
    assert "2 sockets, 4 physical cores, no SMT, 2 NUMA nodes" in topo.describe()


def test_sysfs_missing_is_unknown(tmp_path: Path) -> None:
    topo = topology(root=tmp_path, affinity=[0])
    assert (topo.physical_cores, topo.sockets, topo.smt, topo.numa_nodes) == (None,) * 4
    assert topo.logical_cpus >= 1
    assert "sockets unknown" in topo.describe()


def test_sysfs_garbled_core_id_falls_back_to_siblings(tmp_path: Path) -> None:
    sysfs_cpus(tmp_path, {0: (0, 0, "0-1"), 1: (0, 0, "0-1")})
    write(tmp_path, "sys/devices/system/cpu/cpu1/topology/core_id", "??\n")
    topo = topology(root=tmp_path, affinity=range(2))
    assert (topo.physical_cores, topo.sockets, topo.smt) == (1, 1, True)


# --- the real machine --------------------------------------------------------------


def test_real_machine() -> None:
    topo = topology()
    assert topo.affinity == tuple(sorted(os.sched_getaffinity(0)))
    assert topo.logical_cpus == psutil.cpu_count()
    assert topo.cpu_budget > 0
    assert topo.tensorflow_default_threads == len(topo.affinity)
    line = topo.describe()
    assert "\n" not in line
    assert line.endswith(f"CPU budget {topo.cpu_budget:g}")
    data = topo.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["affinity"] == list(topo.affinity)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_narrowed_affinity_in_a_child() -> None:
    if 0 not in os.sched_getaffinity(0):
        pytest.skip("CPU 0 is not in this process's affinity mask")
    seen = run_snippet(
        "from tfthreads.topology import topology\n"
        "t = topology()\n"
        "result = [list(t.affinity), t.tensorflow_default_threads]\n",
        cpus=[0],
    )
    assert seen.returncode == 0, seen.stderr
    assert seen.data == [[0], 1]


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset not installed")
def test_narrowed_affinity_with_taskset() -> None:
    if 0 not in os.sched_getaffinity(0):
        pytest.skip("CPU 0 is not in this process's affinity mask")
    script = "from tfthreads.topology import topology; print(topology().affinity_cpus)"
    taskset = shutil.which("taskset")
    assert taskset is not None
    out = subprocess.run(
        [taskset, "-c", "0", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "1"
