"""The one formatter of the library's fixed-width text tables.

``tfthreads sweep``, ``tune`` (its final comparison) and ``report`` print tables of
settings; they all go through :func:`text_table`, so that columns, alignment and rules
look alike and a change is made once.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["text_table"]


def text_table(
    head: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    left: Sequence[int] = (),
    indent: str = "",
    rule: bool = True,
) -> list[str]:
    r"""Return the lines of a table: the head, a rule, then one line per row.

    Every column is as wide as its widest cell; cells are right-aligned (numbers line
    up), except the columns whose indexes are in ``left``. Trailing blanks are removed.

    Examples
    --------
    >>> print("\n".join(text_table(["setting", "ms"], [["defaults", "1.5"], ["1/2", "12.25"]],
    ...                             left=[0])))
    setting      ms
    ---------------
    defaults    1.5
    1/2       12.25
    """
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return (indent + "  ".join(parts)).rstrip()

    lines = [line(head)]
    if rule:
        lines.append(indent + "-" * (len(lines[0]) - len(indent)))
    return lines + [line(row) for row in body]
