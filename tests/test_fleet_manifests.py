"""The fleet how-to's Kubernetes Jobs: valid manifests that run real tfthreads commands.

No cluster is available here, so each manifest under ``docs/how-to/fleet/`` is checked
offline, in three ways: against Kubernetes' own schemas (kubernetes-validate, strict, so a
misspelt or misplaced field fails too), its container's arguments through the real
``tfthreads`` argument parser (an option that does not exist fails), and its resources,
node selector and volumes against what the how-to says of them. The container's program,
``run.sh``, is checked for shell syntax with ``sh -n``.
"""

from __future__ import annotations

import argparse
import copy
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml  # PyYAML: a dependency of kubernetes-validate

from tfthreads.cli import build_parser

FLEET = Path(__file__).resolve().parents[1] / "docs" / "how-to" / "fleet"
MANIFESTS = sorted(FLEET.glob("*.yaml"))
PROGRAM = FLEET / "run.sh"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
# The oldest Kubernetes minor release the how-to claims, and the newest schemas installed.
VERSIONS = ("1.30", kubernetes_validate.latest_version())


def load(path: Path) -> dict[str, Any]:
    """Read a manifest: one YAML document."""
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert len(documents) == 1, f"{path.name}: expected one Job, got {len(documents)} documents"
    job: dict[str, Any] = documents[0]
    return job


def pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def only_container(job: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = pod_spec(job)["containers"]
    assert len(containers) == 1, "expected one container: a second would share the CPUs"
    return containers[0]


def resources(job: dict[str, Any]) -> dict[str, str]:
    """The container's limits, after checking that its requests are the same."""
    found = only_container(job)["resources"]
    assert found["requests"] == found["limits"], "requests differ from limits: not Guaranteed"
    limits: dict[str, str] = found["limits"]
    return limits


def mount_of(job: dict[str, Any], volume: str) -> str:
    mounts = only_container(job)["volumeMounts"]
    paths = [str(m["mountPath"]) for m in mounts if m["name"] == volume]
    assert len(paths) == 1, f"volume {volume!r} is mounted {len(paths)} times"
    return paths[0]


def parse(arguments: list[str]) -> argparse.Namespace:
    """Parse a command line with the CLI's own parser; a refused one fails the test."""
    try:
        return build_parser().parse_args(arguments)
    except SystemExit as refused:
        pytest.fail(f"tfthreads refuses {shlex.join(arguments)!r} (exit {refused.code})")


def test_there_are_manifests() -> None:
    assert len(MANIFESTS) >= 2, f"no fleet manifests under {FLEET}"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_manifest_is_a_valid_job(path: Path, version: str) -> None:
    job = load(path)
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    kubernetes_validate.validate(job, version, strict=True)


@pytest.mark.parametrize(
    ("where", "wrong"),
    [
        (("spec", "template", "spec"), "nodeSelectr"),  # misspelt
        (("spec",), "restartPolicy"),  # in the Job, not in its pod
    ],
)
def test_the_schema_check_refuses_a_wrong_field(where: tuple[str, ...], wrong: str) -> None:
    job = copy.deepcopy(load(MANIFESTS[0]))
    target = job
    for key in where:
        target = target[key]
    target[wrong] = "Never"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, VERSIONS[0], strict=True)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_arguments_are_a_tfthreads_command(path: Path) -> None:
    job = load(path)
    container = only_container(job)
    # run.sh runs `tfthreads "$@"`: the container's args are the command line, as they are.
    assert container["command"] == ["sh", f"{mount_of(job, 'fleet')}/{PROGRAM.name}"]
    args = parse(container["args"])
    assert args.command in {"sweep", "tune"}
    name = path.stem.removeprefix("job-")
    assert args.output == f"{mount_of(job, 'results')}/{name}.jsonl"
    if args.command == "sweep":
        assert max(args.intra_op) <= int(resources(job)["cpu"]), "more threads than CPUs"


def test_the_parser_refuses_an_option_that_does_not_exist() -> None:
    arguments = ["sweep", "mlp_latency", "--intra-ops", "1,2", "--output", "/results/x.jsonl"]
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(arguments)
    assert refused.value.code == 2


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_job_has_its_node_type_and_guaranteed_cpus(path: Path) -> None:
    job = load(path)
    spec = pod_spec(job)
    instance = spec["nodeSelector"][INSTANCE_TYPE]
    assert path.stem.startswith(f"job-{instance.replace('.', '-')}")
    limits = resources(job)
    assert set(limits) == {"cpu", "memory"}
    # A whole number of CPUs: the static CPU manager policy gives only those dedicated CPUs.
    assert limits["cpu"].isdigit(), f"cpu {limits['cpu']!r} is not a whole number of CPUs"
    # A failed pod must not be replaced: its results are in its emptyDir.
    assert (spec["restartPolicy"], job["spec"]["backoffLimit"]) == ("Never", 0)
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["results"] == {"name": "results", "emptyDir": {}}
    assert volumes["fleet"]["configMap"]["name"] == "tfthreads-fleet"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_readiness_means_the_results_are_there(path: Path) -> None:
    job = load(path)
    probe = only_container(job)["readinessProbe"]["exec"]["command"]
    done = f"{mount_of(job, 'results')}/done"
    assert probe == ["test", "-e", done]
    assert f"touch {done}" in PROGRAM.read_text(encoding="utf-8")


def test_program_is_valid_shell() -> None:
    shell = shutil.which("sh")
    assert shell is not None
    checked = subprocess.run(
        [shell, "-n", str(PROGRAM)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert 'tfthreads "$@"' in PROGRAM.read_text(encoding="utf-8")
