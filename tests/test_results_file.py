"""Results files: what may be opened, what survives a crash, and who may write."""

from __future__ import annotations

import json
import os
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfthreads.errors import SettingError
from tfthreads.results_file import (
    FORMAT,
    MAX_LINE_BYTES,
    ResultsFile,
    check_results_path,
    read_results,
)


def _lines(path):
    return path.read_text().splitlines()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/dev/null", "character device"),
        ("/dev/full", "character device"),
        ("/tmp", "folder"),
        ("newdir/", "names a folder"),
    ],
)
def test_refuses_what_is_not_a_regular_file(path, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingError, match=words):
        ResultsFile.open(path, name="--output")
    assert not (tmp_path / "newdir").exists()


def test_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(SettingError, match="FIFO"):
        ResultsFile.open(fifo)


@pytest.mark.parametrize("resume", [True, False])
def test_never_appends_to_or_empties_another_file(tmp_path, resume):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    model = tmp_path / "victim.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    before = model.read_bytes()
    for path in (notes, model):
        with pytest.raises(SettingError, match="not a tfthreads results file"):
            ResultsFile.open(path, resume=resume)
    assert notes.read_text() == "my notes\n"
    assert model.read_bytes() == before


def test_new_file_gets_a_header_and_rows_come_back(tmp_path):
    path = tmp_path / "deeper" / "rows.jsonl"
    with ResultsFile.open(path, run={"command": "sweep"}) as results:
        assert results.rows == []
        results.append({"n": 1})
        results.append({"n": 2})
    header = json.loads(_lines(path)[0])
    assert (header["format"], header["run"]) == (FORMAT, {"command": "sweep"})
    with ResultsFile.open(path) as again:
        assert again.rows == [{"n": 1}, {"n": 2}]
    with ResultsFile.open(path, resume=False) as fresh:
        assert fresh.rows == []
        fresh.append({"n": 3})
    assert _lines(path)[1:] == ['{"n": 3}']


def test_a_header_without_a_run_takes_the_run_that_follows(tmp_path):
    # A file opened with no run to describe (by a script, say) holds a bare header.
    path = tmp_path / "tune.jsonl"
    ResultsFile.open(path, name="--output").close()
    with ResultsFile.open(path, run={"command": "tune"}) as results:
        results.append({"n": 1})
    assert json.loads(_lines(path)[0])["run"] == {"command": "tune"}
    # A described run, or rows, are never rewritten; rows of another run are refused.
    with pytest.raises(SettingError, match="already holds a tune"):
        ResultsFile.open(path, run={"command": "sweep"})
    with ResultsFile.open(path) as again:
        assert again.rows == [{"n": 1}]
    assert json.loads(_lines(path)[0])["run"] == {"command": "tune"}
    empty = tmp_path / "described.jsonl"
    ResultsFile.open(empty, run={"command": "sweep"}).close()
    ResultsFile.open(empty, run={"command": "tune"}).close()
    assert json.loads(_lines(empty)[0])["run"] == {"command": "sweep"}


def test_a_torn_last_line_is_dropped_before_appending(tmp_path):
    path = tmp_path / "rows.jsonl"
    with ResultsFile.open(path) as results:
        results.append({"n": 1})
    with path.open("a") as raw:
        raw.write('{"n": 2, "cut sh')
    with ResultsFile.open(path) as results:
        assert (results.rows, results.repaired) == ([{"n": 1}], True)
        results.append({"n": 3})
    assert [json.loads(line) for line in _lines(path)[1:]] == [{"n": 1}, {"n": 3}]


def test_a_second_writer_is_refused(tmp_path):
    path = tmp_path / "rows.jsonl"
    with ResultsFile.open(path), pytest.raises(SettingError, match="another tfthreads run"):
        ResultsFile.open(path)
    ResultsFile.open(path).close()  # free again once the first one closed


def test_other_versions_and_endless_lines_are_refused(tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"format": FORMAT, "version": 99}) + "\n")
    with pytest.raises(SettingError, match="version 99"):
        ResultsFile.open(old)
    huge = tmp_path / "huge.jsonl"
    with ResultsFile.open(huge) as results:
        results.append({"n": 1})
    with huge.open("a") as raw:
        raw.write("x" * (MAX_LINE_BYTES + 10) + "\n")
    with pytest.raises(SettingError, match="longer than"):
        ResultsFile.open(huge)


def test_check_results_path_allows_new_and_regular_files(tmp_path):
    assert check_results_path(tmp_path / "new.jsonl") == tmp_path / "new.jsonl"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=10), max_size=4),
        max_size=5,
    ),
    tail=st.binary(max_size=64),
)
def test_whatever_follows_the_rows_loses_none_of_them(tmp_path_factory, rows, tail):
    path = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    with ResultsFile.open(path) as results:
        for row in rows:
            results.append(row)
    with path.open("ab") as raw:
        raw.write(tail)
    whole = tail.rpartition(b"\n")[0].split(b"\n") if b"\n" in tail else []
    if any(not isinstance(_json_or_none(line), dict) for line in whole):
        # A whole line that is no JSON object was written by hand: refused, kept as it is.
        before = path.read_bytes()
        with pytest.raises(SettingError, match="is not a JSON object"):
            ResultsFile.open(path)
        assert path.read_bytes() == before
        return
    with ResultsFile.open(path) as results:
        assert results.rows[: len(rows)] == rows
        results.append({"after": True})
    with ResultsFile.open(path) as results:
        assert results.rows[-1] == {"after": True}


def _json_or_none(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


def test_a_hand_edited_middle_line_is_refused_before_appending(tmp_path):
    """Appending after it would leave a file that report refuses for good."""
    path = tmp_path / "rows.jsonl"
    with ResultsFile.open(path) as results:
        results.append({"a": 1})
    path.write_text(path.read_text() + "this is not json\n" + json.dumps({"b": 2}) + "\n")
    before = path.read_bytes()
    with pytest.raises(SettingError, match=r"line 3 of .* is not a JSON object.*--no-resume"):
        ResultsFile.open(path)
    assert path.read_bytes() == before
    with ResultsFile.open(path, resume=False) as results:  # starting afresh is allowed
        assert results.rows == []


def test_a_full_disk_names_the_file_and_leaves_every_earlier_row(tmp_path):
    """The file size limit stands in for a full disk: the write fails part-way."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "r.jsonl"
    code = textwrap.dedent(
        f"""
        import resource, signal
        from tfthreads.results_file import ResultsFile
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        with ResultsFile.open({str(path)!r}) as results:
            results.append({{"n": 1}})
            resource.setrlimit(resource.RLIMIT_FSIZE, (results.path.stat().st_size + 100,) * 2)
            try:
                results.append({{"n": 2, "padding": "x" * 5000}})
            except OSError as error:
                print(error.filename, error.strerror)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{path} File too large"
    with ResultsFile.open(path) as results:
        assert [row["n"] for row in results.rows] == [1]
        assert not results.repaired


TUNE_LATENCY = {
    "command": "tune",
    "workload": {"kind": "keras", "target": "model.keras", "params": {}},
    "goal": "latency",
}


@pytest.mark.parametrize(
    ("first", "second", "words"),
    [
        (
            TUNE_LATENCY,
            {**TUNE_LATENCY, "goal": "throughput"},
            "holds a tune of 'model.keras' (goal latency), started ",
        ),
        ({"workloads": []}, TUNE_LATENCY, "already holds a sweep, started "),
        (
            TUNE_LATENCY,
            {"workloads": []},
            "this run is a sweep: choose another file, or --no-resume",
        ),
    ],
)
def test_a_file_holds_one_run_and_refuses_rows_of_another(tmp_path, first, second, words):
    path = tmp_path / "r.jsonl"
    with ResultsFile.open(path, run=first) as results:
        results.append({"status": "ok"})
    before = path.read_bytes()
    with pytest.raises(SettingError, match=re.escape(words)):
        ResultsFile.open(path, run=second)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [({"workloads": []}, {"workloads": ["other"]}), (TUNE_LATENCY, {**TUNE_LATENCY, "repeats": 9})],
)
def test_a_sweep_resumes_a_sweep_and_a_tune_the_same_tune(tmp_path, first, second):
    path = tmp_path / "r.jsonl"
    with ResultsFile.open(path, run=first) as results:
        results.append({"status": "ok"})
    with ResultsFile.open(path, run=second) as results:
        assert results.rows == [{"status": "ok"}]


def test_a_file_opened_afresh_keeps_its_rows_until_the_first_new_row(tmp_path):
    """``resume=False`` loses nothing when the run stops before it measured anything."""
    path = tmp_path / "r.jsonl"
    with ResultsFile.open(path, run={"command": "sweep", "n": 1}) as results:
        results.append({"n": 1})
    before = path.read_bytes()
    with ResultsFile.open(path, resume=False, run={"command": "sweep", "n": 2}) as results:
        assert results.rows == []  # afresh: nothing of the old run is reused
    assert path.read_bytes() == before
    with ResultsFile.open(path, resume=False, run={"command": "sweep", "n": 2}) as results:
        results.append({"n": 2})
    header, rows = read_results(path)
    assert header["run"] == {"command": "sweep", "n": 2}
    assert [row for _, row in rows] == [{"n": 2}]


def test_reading_a_finished_file_shares_what_repeats_between_rows(tmp_path):
    """A file of many rounds repeats each row's provenance: it is held once, not per row."""
    from tfthreads.results_file import read_results

    path = tmp_path / "rows.jsonl"
    provenance = {"cpu_model": "x", "topology": {"logical_cpus": 2}}
    with ResultsFile.open(path) as results:
        for number in range(3):
            results.append({"n": number, "provenance": provenance})
    _, rows = read_results(path)
    first, *others = (row["provenance"] for _, row in rows)
    assert first == provenance
    assert all(other is first for other in others)
