"""Temporary CPU-quota cgroups: fake trees for both cgroup versions, and the real one."""

from __future__ import annotations

import pytest

from tfthreads.errors import SettingError, UnsupportedPlatformError
from tfthreads.quota import cpu_quota


def test_v1_tree(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    with cpu_quota(1.5, root=tmp_path) as group:
        assert group.parent == tmp_path / "cpu"
        assert (group / "cpu.cfs_quota_us").read_text() == "150000"
        assert (group / "cpu.cfs_period_us").read_text() == "100000"
        # A fake tree is a plain folder; the real kernel removes these files itself.
        for child in group.iterdir():
            child.unlink()
    assert not group.exists()


def test_v2_tree_enables_the_cpu_controller(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu io memory\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory\n")
    with cpu_quota(0.5, root=tmp_path) as group:
        assert (group / "cpu.max").read_text() == "50000 100000"
        (group / "cpu.max").unlink()
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu"


def test_no_cpu_controller(tmp_path):
    with (
        pytest.raises(UnsupportedPlatformError, match="cannot create a cgroup"),
        cpu_quota(1, root=tmp_path),
    ):
        pass


@pytest.mark.parametrize("bad", [0, -1, "2", True, float("nan"), 10**6])
def test_bad_quota(bad):
    with pytest.raises(SettingError, match="cpus: got"), cpu_quota(bad):
        pass


@pytest.mark.slow
def test_measure_under_a_real_quota():
    from tfthreads.measure import measure
    from tfthreads.options import MeasureOptions

    try:
        with cpu_quota(0.5) as group:
            result = measure("matmul", options=MeasureOptions(repeats=3, warmup=1, cgroup=group))
    except UnsupportedPlatformError as error:
        pytest.skip(str(error))
    seen = result.provenance["child_topology"]
    assert seen["quota_cpus"] == pytest.approx(0.5)
    assert seen["cpu_budget"] == pytest.approx(0.5)
    # TensorFlow still sizes its pools from the affinity mask, not the quota.
    assert result.observed_pools["intra_op"] == seen["affinity_cpus"]
