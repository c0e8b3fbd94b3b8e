"""Tests for tfthreads.catalog against the installed TensorFlow (descriptors only)."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tfthreads import catalog
from tfthreads.catalog import CATALOG, ONLY_COMPAT_V1, Kind, Setting, by_kind, get
from tfthreads.errors import SettingError

# Field names the descriptor scan treats as threading-related.
SCAN_PATTERN = re.compile(r"thread|parallel|pool|spinning|numa|device_count|placement|executor")

# Fields that match SCAN_PATTERN but are deliberately not catalogued, with the reason.
# Keys are "<full message name>.<field>". Empty on TF 2.21: every match is catalogued.
# (GPUOptions and its nested messages are scanned too; none of their fields match.)
EXCLUDED: dict[str, str] = {}

_SCALAR_TYPES = {
    "TYPE_INT32": "int32",
    "TYPE_INT64": "int64",
    "TYPE_BOOL": "bool",
    "TYPE_STRING": "string",
    "TYPE_DOUBLE": "double",
    "TYPE_FLOAT": "float",
}


@pytest.fixture(scope="module")
def config_pb2() -> Any:
    from tensorflow.core.protobuf import config_pb2 as module

    return module


@pytest.fixture(scope="module")
def tf() -> Any:
    import tensorflow

    return tensorflow


def _messages(config_pb2: Any) -> dict[str, Any]:
    """Descriptors of the scanned messages and every message nested in them."""
    roots = [
        config_pb2.ConfigProto,
        config_pb2.RunOptions,
        config_pb2.ThreadPoolOptionProto,
        config_pb2.GPUOptions,
        config_pb2.GraphOptions,
        config_pb2.OptimizerOptions,
    ]
    found: dict[str, Any] = {}
    stack = [r.DESCRIPTOR for r in roots]
    while stack:
        desc = stack.pop()
        if desc.full_name in found or desc.GetOptions().map_entry:
            continue
        found[desc.full_name] = desc
        stack.extend(desc.nested_types)
    return found


def _type_string(field: Any) -> str:
    """Render a field descriptor the way config.proto spells its type."""
    msg = field.message_type
    if msg is not None and msg.GetOptions().map_entry:
        key, value = msg.fields_by_name["key"], msg.fields_by_name["value"]
        return f"map<{_type_string(key)}, {_type_string(value)}>"
    if msg is not None:
        base = msg.name
    else:
        names = {getattr(field, n): n for n in _SCALAR_TYPES}
        base = _SCALAR_TYPES[names[field.type]]
    return f"repeated {base}" if field.is_repeated else base


def _proto_entries() -> list[Setting]:
    return [s for s in CATALOG if s.is_proto_field]


@pytest.mark.parametrize("setting", _proto_entries(), ids=lambda s: s.name)
def test_proto_entry_matches_descriptor(setting: Setting, config_pb2: Any) -> None:
    messages = _messages(config_pb2)
    assert setting.message in messages, setting.message
    desc = messages[setting.message]
    short = setting.message.removeprefix("tensorflow.")
    assert setting.name == f"{short}.{setting.field}"
    field = desc.fields_by_name.get(setting.field)
    assert field is not None, f"{setting.message} has no field {setting.field}"
    assert field.number == setting.field_number
    assert _type_string(field) == setting.type


def test_descriptor_scan_finds_nothing_uncatalogued(config_pb2: Any) -> None:
    catalogued = {f"{s.message}.{s.field}" for s in _proto_entries()}
    matching = {
        f"{name}.{field.name}"
        for name, desc in _messages(config_pb2).items()
        for field in desc.fields
        if SCAN_PATTERN.search(field.name)
    }
    missing = sorted(matching - catalogued - EXCLUDED.keys())
    assert not missing, f"threading-related fields not in the catalog: {missing}"
    stale = sorted(EXCLUDED.keys() - matching)
    assert not stale, f"exclusions that no longer exist: {stale}"


def test_catalog_covers_required_entries() -> None:
    required = [
        "ConfigProto.intra_op_parallelism_threads",
        "ConfigProto.Experimental.use_numa_affinity",
        "ThreadPoolOptionProto.global_name",
        "RunOptions.Experimental.run_handler_pool_options",
        "TF_OVERRIDE_GLOBAL_THREADPOOL",
        "TF_GPU_THREAD_COUNT",
        "tf.data.Options.autotune.cpu_budget",
        "--tensorflow_session_parallelism",
    ]
    for name in required:
        assert catalog.get(name).name == name


CATALOG_PACKAGE = Path(catalog.__file__).parent
PROSE = ("summary", "default", "resolution", "read_when", "freezes", "tf2_path", "notes")


def _catalog_imports(path: Path) -> tuple[set[str], list[str]]:
    """Catalog modules ``path`` imports at the top level, and those it imports elsewhere."""
    module = _dotted(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found: set[str] = set()
    hidden: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolve against this package
                base = ".".join([*("tfthreads", "catalog")[: 3 - node.level], node.module])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        targets = {n for n in names if n.startswith("tfthreads.catalog") and n != module}
        # "from tfthreads.catalog import x" runs tfthreads.catalog/__init__ first.
        targets = {n if n in CATALOG_MODULES else n.rsplit(".", 1)[0] for n in targets}
        targets &= set(CATALOG_MODULES)
        if id(node) in top:
            found |= targets
        elif targets:
            hidden.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found - {module}, hidden


def _dotted(path: Path) -> str:
    parts = path.relative_to(CATALOG_PACKAGE).with_suffix("").parts
    return ".".join(("tfthreads.catalog", *(p for p in parts if p != "__init__")))


CATALOG_MODULES = {_dotted(p): p for p in sorted(CATALOG_PACKAGE.rglob("*.py"))}


def test_catalog_modules_are_model_entries_queries() -> None:
    # facts/probes/observe: what backs each claim, the probes, and running them;
    # compat: the same probes on other TensorFlow releases.
    assert set(CATALOG_MODULES) == {
        "tfthreads.catalog",
        "tfthreads.catalog.facts",
        "tfthreads.catalog.model",
        "tfthreads.catalog.entries",
        # the entries, one module per reference page, and what they share
        "tfthreads.catalog.entries.common",
        "tfthreads.catalog.entries.pools",
        "tfthreads.catalog.entries.sessions",
        "tfthreads.catalog.entries.placement",
        "tfthreads.catalog.entries.experimental",
        "tfthreads.catalog.entries.environment",
        "tfthreads.catalog.entries.tf_data",
        "tfthreads.catalog.entries.serving",
        "tfthreads.catalog.queries",
        "tfthreads.catalog.probes",
        "tfthreads.catalog.probes._common",
        "tfthreads.catalog.probes.runtime",
        "tfthreads.catalog.probes.data_pipeline",
        "tfthreads.catalog.probes.sessions",
        "tfthreads.catalog.probes._option_defaults",  # part of the sessions probe
        "tfthreads.catalog.probes.onednn",
        "tfthreads.catalog.probes.execution",
        "tfthreads.catalog.observe",
        "tfthreads.catalog.compat",
        "tfthreads.catalog.releases",
    }


def test_catalog_has_no_import_cycle() -> None:
    # Every import between catalog modules is at the top level (no function-level import
    # that hides a cycle), and the import graph has no cycle.
    graph: dict[str, set[str]] = {}
    for name, path in CATALOG_MODULES.items():
        graph[name], hidden = _catalog_imports(path)
        assert not hidden, f"{name} imports catalog modules inside a function: {hidden}"
    assert graph["tfthreads.catalog.facts"] == set(), "facts must import no catalog module"
    assert graph["tfthreads.catalog.model"] <= {"tfthreads.catalog.facts"}, (
        "the model may import only the facts"
    )
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import cycle: " + " -> ".join((*path, name))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


@pytest.mark.parametrize("module", sorted(CATALOG_MODULES))
def test_each_catalog_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "import tfthreads.catalog as c; assert c.CATALOG and c.get('TF_NUM_INTRAOP_THREADS'); "
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", "importing the catalog must not import TensorFlow"


@pytest.mark.parametrize("setting", CATALOG, ids=lambda s: s.name)
def test_prose_is_myst_text_and_code(setting: Setting) -> None:
    # The docs render these fields with MyST; only text and `code` may come out, so a
    # stray <tag>, *emphasis* or [link] cannot change or hide part of a fact.
    markdown_it = pytest.importorskip("markdown_it", reason="the docs group is not installed")
    parser = markdown_it.MarkdownIt("commonmark")
    for attribute in PROSE:
        text = getattr(setting, attribute)
        if not text:
            continue
        tokens = parser.parseInline(text)[0].children or []
        kinds = {token.type for token in tokens} - {"text", "code_inline"}
        assert not kinds, f"{setting.name}.{attribute} has {sorted(kinds)}: {text!r}"
        assert "".join(token.content for token in tokens) == text.replace("`", "")


def test_names_unique() -> None:
    names = [s.name for s in CATALOG]
    assert len(names) == len(set(names))


def test_the_catalog_knows_nothing_of_the_site_layout() -> None:
    # Which page documents an entry, and its label, belong to docs/_ext/tfthreads_docs.
    fields = {f.name for f in dataclasses.fields(Setting)}
    assert not fields & {"doc_page", "doc_label", "page", "label"}
    assert not hasattr(Setting, "doc_label")
    assert not {"DOC_PAGES", "by_page"} & set(dir(catalog))


@pytest.mark.parametrize("setting", CATALOG, ids=lambda s: s.name)
def test_entry_is_complete(setting: Setting) -> None:
    for attr in (
        "summary",
        "type",
        "default",
        "resolution",
        "read_when",
        "freezes",
        "tf2_path",
        "source",
    ):
        value = getattr(setting, attr)
        assert isinstance(value, str)
        assert value.strip(), f"{setting.name}.{attr} is empty"
    assert setting.name not in setting.related
    for other in setting.related:
        assert catalog.get(other).name == other
    if setting.is_proto_field:
        assert setting.message is not None
        assert setting.message.startswith("tensorflow.")
        assert isinstance(setting.field_number, int)
    else:
        assert setting.message is None
        assert setting.field_number is None


def test_env_var_names() -> None:
    entries = catalog.by_kind(Kind.ENV_VAR)
    assert entries
    for s in entries:
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", s.name), s.name
        assert s.field == s.name


def test_serving_flags() -> None:
    entries = catalog.by_kind(Kind.SERVING_FLAG)
    assert len(entries) == 3
    for s in entries:
        assert s.name.startswith("--tensorflow_")


@pytest.mark.parametrize("setting", catalog.by_kind(Kind.TF_DATA_OPTION), ids=lambda s: s.name)
def test_tf_data_option_exists_and_defaults_to_none(setting: Setting, tf: Any) -> None:
    prefix = "tf.data.Options."
    assert setting.name.startswith(prefix)
    obj: Any = tf.data.Options()
    for part in setting.name.removeprefix(prefix).split("."):
        obj = getattr(obj, part)
    assert obj is None
    assert setting.tf2_path.startswith("`options." + setting.name.removeprefix(prefix))


@pytest.mark.parametrize("setting", CATALOG, ids=lambda s: s.name)
def test_tf2_paths_resolve(setting: Setting, tf: Any) -> None:
    calls = re.findall(r"\btf\.(?:config|debugging)\.[A-Za-z_.]+(?=\()", setting.tf2_path)
    for dotted in calls:
        obj: Any = tf
        for part in dotted.split(".")[1:]:
            obj = getattr(obj, part)
        assert callable(obj), dotted


def test_only_compat_v1_constant() -> None:
    assert ONLY_COMPAT_V1 == "only through tf.compat.v1"
    assert catalog.get("ConfigProto.use_per_session_threads").tf2_path == ONLY_COMPAT_V1


def test_get_exact_and_bare_field() -> None:
    s = catalog.get("ConfigProto.intra_op_parallelism_threads")
    assert s is catalog.get("intra_op_parallelism_threads")
    assert catalog.get("num_threads").name == "ThreadPoolOptionProto.num_threads"
    assert catalog.get("private_threadpool_size").kind is Kind.TF_DATA_OPTION
    assert s.field == "intra_op_parallelism_threads"


def test_get_unknown_suggests() -> None:
    with pytest.raises(SettingError, match="intra_op_threads") as info:
        catalog.get("intra_op_threads")
    message = str(info.value)
    assert "did you mean 'ConfigProto.intra_op_parallelism_threads'?" in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


def test_get_unknown_without_close_match() -> None:
    with pytest.raises(SettingError, match="zzzz"):
        catalog.get("zzzz")


def test_settings_are_frozen() -> None:
    s = catalog.get("TF_NUM_INTRAOP_THREADS")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.default = "4"  # type: ignore[misc]


def test_by_kind_partitions_the_catalog() -> None:
    assert sum(len(catalog.by_kind(k)) for k in Kind) == len(CATALOG)
    assert catalog.get("TF_NUM_INTRAOP_THREADS") in catalog.by_kind(Kind.ENV_VAR)


def _tensorflow_libraries(tf: Any) -> list[Path]:
    root = Path(tf.__file__).parent
    return [*root.glob("libtensorflow*.so*"), root / "python" / "_pywrap_tensorflow_internal.so"]


@pytest.mark.parametrize(
    "setting",
    [s for s in by_kind(Kind.ENV_VAR) if s.effective_in_stock_wheel],
    ids=lambda s: s.name,
)
def test_effective_variables_are_read_by_tensorflow(setting: Setting, tf: Any) -> None:
    # The variable name must occur in TensorFlow's binaries, or nothing could read it.
    needle = setting.field.encode()
    assert any(needle in path.read_bytes() for path in _tensorflow_libraries(tf) if path.exists())


@pytest.mark.parametrize("name", ["KMP_BLOCKTIME", "KMP_AFFINITY"])
def test_intel_openmp_variables_are_absent_from_tensorflow(name: str, tf: Any) -> None:
    assert not get(name).effective_in_stock_wheel
    needle = name.encode()
    assert not any(
        needle in path.read_bytes() for path in _tensorflow_libraries(tf) if path.exists()
    )


@pytest.mark.slow
def test_omp_num_threads_does_not_size_the_pools() -> None:
    from tfthreads.probe import observe_pools

    assert not get("OMP_NUM_THREADS").effective_in_stock_wheel
    default = observe_pools(env={"OMP_NUM_THREADS": None})
    with_omp = observe_pools(env={"OMP_NUM_THREADS": "1"})
    assert (with_omp.observed_intra_op, with_omp.observed_inter_op) == (
        default.observed_intra_op,
        default.observed_inter_op,
    )
