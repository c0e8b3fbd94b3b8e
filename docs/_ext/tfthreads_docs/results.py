"""Results from other machines: the ``results-file`` directive and the check of ``results/``.

Files under ``docs/results/`` are tfthreads results files measured elsewhere
(:mod:`tfthreads.results_file`). When a build starts, each one is read with
:func:`tfthreads.report.load_report`; one that is not a valid results file is an error
of one line naming it (``ERROR: Results file error: 'docs/results/x.jsonl' ...``), and
the build exits with status 1, with or without ``-W``. The ``results-file`` directive renders one of them, every
number computed from the file at build time: its machine, date and TensorFlow release,
then per scenario, workload and goal a table of the settings against the baseline, with
intervals and verdicts, and a figure of the ratios. A file that no page renders is a
warning (an error under ``-W``): committed results are shown, or not committed.

TensorFlow is not imported here, nor by :mod:`tfthreads.report`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads.errors import SettingError
from tfthreads.report import RATIO_MEANS, Report, ReportRow, load_report, table_cells
from tfthreads_docs.markup import PageRecords, table

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["RESULTS_FOLDER", "ResultsFile", "check_results_folder", "setup"]

logger = logging.getLogger(__name__)

#: The folder of committed results files, relative to the documentation's source.
RESULTS_FOLDER = "results"
_SHOWN = PageRecords("tfthreads_results_shown")


def check_results_folder(srcdir: str | os.PathLike[str]) -> tuple[list[Path], list[str]]:
    """Read every ``*.jsonl`` file under ``results/``.

    Returns
    -------
    valid : list of pathlib.Path
        The files that are valid results files.
    problems : list of str
        One line per other file, naming it (relative to the folder above the
        documentation's source, such as ``docs/results/x.jsonl``) and what is wrong.
    """
    folder = Path(srcdir, RESULTS_FOLDER)
    valid, problems = [], []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        try:
            load_report([path])
        except SettingError as error:
            shown = os.path.relpath(path, Path(srcdir).parent)
            problems.append(str(error).replace(repr(str(path)), repr(shown), 1))
        else:
            valid.append(path)
    return valid, problems


def _check_folder(app: Sphinx) -> None:
    """``builder-inited``: a malformed results file is an error, and the build fails."""
    for problem in check_results_folder(app.srcdir)[1]:
        logger.error("Results file error: %s", problem, type="tfthreads", subtype="results")
        app.statuscode = 1


def _check_shown(app: Sphinx, env: BuildEnvironment) -> None:
    shown = _SHOWN.of(env)
    for path in check_results_folder(app.srcdir)[0]:
        if str(path.resolve()) not in shown:
            logger.warning(
                "%s/%s is on no page: render it with a ```{results-file}``` directive",
                RESULTS_FOLDER,
                path.name,
            )


class ResultsFile(SphinxDirective):
    """Render one results file: its machine, then a table and a figure per scenario.

    The argument is the file, relative to the page or, starting with ``/``, to the
    documentation's source. Option ``:cpus: N`` fails the build unless the file's
    machine has N logical CPUs (a section titled for a machine states it only if so).
    """

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"cpus": directives.positive_int}

    def run(self) -> list[nodes.Node]:
        """Read the file and build its nodes."""
        relative, absolute = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relative)
        try:
            report = load_report([absolute])
        except SettingError as error:
            raise self.error(f"results-file: {error}") from None
        source = report.sources[0]
        _SHOWN.of(self.env)[str(Path(absolute).resolve())] = self.env.docname
        expected = self.options.get("cpus")
        if expected is not None and source.logical_cpus != expected:
            raise self.error(
                f"results-file: {self.arguments[0]} was measured on {source.logical_cpus} "
                f"logical CPUs, not the {expected} that :cpus: says"
            )
        out: list[nodes.Node] = [_machine(_facts(report))]
        for rows in report.groups().values():
            out += _group(rows, report)
        return out


def _facts(report: Report) -> list[tuple[str, str]]:
    source = report.sources[0]
    return [
        ("File", source.name),
        ("Machine", source.machine),
        ("Measured", f"{source.date}, by {source.command}"),
        ("TensorFlow", source.tensorflow),
    ]


def _machine(facts: list[tuple[str, str]]) -> nodes.Node:
    field_list = nodes.field_list(classes=["results-machine"])
    for name, value in facts:
        field = nodes.field()
        field += nodes.field_name(text=name)
        body = nodes.field_body()
        body += nodes.paragraph(text=value)
        field += body
        field_list += field
    return field_list


def _group(rows: list[ReportRow], report: Report) -> list[nodes.Node]:
    first = rows[0]
    rubric = nodes.rubric(text=f"{first.scenario}: {first.title}")
    quantity = f"times better than the baseline, above 1 better: {RATIO_MEANS[first.goal]}"
    best = " (chosen as the best)" if first.best_is_baseline else ""
    intro = nodes.paragraph(
        text=(
            f"{first.workload}, {first.processes} process(es) per measurement, goal "
            f"{first.goal}; baseline {first.baseline}{best}. Ratio: {quantity}, with its "
            "95 % interval over the paired rounds."
        )
    )
    out: list[nodes.Node] = [rubric, intro, table(*table_cells(rows), "results")]
    out.append(_figure(report, first.group))
    return out


def _figure(report: Report, group: tuple[str, str, str, str, str]) -> nodes.Node:
    """Draw the group's ratios as inline SVG (HTML only; reproducible: no date, fixed ids)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "tfthreads", "svg.fonttype": "none"}):
        figure = report.plot(group)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return nodes.raw("", f'<div class="results-figure">{svg}</div>', format="html")


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``results-file`` and the checks of ``results/``."""
    app.add_directive("results-file", ResultsFile)
    app.connect("builder-inited", _check_folder)
    _SHOWN.connect(app)
    app.connect("env-check-consistency", _check_shown)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
