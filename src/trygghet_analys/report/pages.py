"""The one HTML renderer: Jinja2 templates in ``report/templates/`` and one stylesheet.

Both pages of a report, ``rapport.html`` and ``underlag_medborgarlofte.html``, are
rendered here from templates that share the page frame (``_sida.html``: head, inlined
stylesheet, banner) and the table macro (``_tabell.html``). The stylesheet
(``stil.css``) is inlined into each page so that a page stays one file that opens
offline. Autoescaping is on: every value is text, and only the package's own template
files are markup.

The templates are read once per process through :func:`environment` (``importlib``'s
resource API, so they are found in an installed wheel too) and compiled once;
``report --alla`` compiles them before it forks its workers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import jinja2

from ..vocabulary import standard_text

__all__ = [
    "SYNTHETIC_BANNER",
    "TEMPLATES",
    "Cell",
    "Table",
    "compile_all",
    "environment",
    "render_page",
    "render_table",
    "table",
]

#: The page templates (the files starting with ``_`` are parts of them).
TEMPLATES: tuple[str, ...] = ("rapport.html", "underlag.html")

#: The banner on every page made from the bundled synthetic data (and in ``tabeller.xlsx``).
SYNTHETIC_BANNER = standard_text("exempeldata")

#: One table cell: (``"td"`` or ``"th"`` (a row header), css class or ``""``, text).
Cell = tuple[str, str, str]


@functools.cache
def _source(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


def _load(name: str) -> tuple[str, str, Any]:
    # read once; a template never changes while the process runs
    return _source(name), name, lambda: True


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's pages (created once per process)."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def compile_all() -> None:
    """Compile every page template now (before ``report --alla`` forks its workers)."""
    env = environment()
    for name in TEMPLATES:
        env.get_template(name)


def render_page(name: str, **context: object) -> str:
    """One page from its template (``rapport.html`` or ``underlag.html``)."""
    return environment().get_template(name).render(**context)


class Table(dict):
    """What the table macro shows: ``caption``, ``headers``, ``rows`` of :data:`Cell`,
    and ``sheet`` (the ``tabeller.xlsx`` sheet with the same numbers, or None)."""


def table(
    caption: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    sheet: str | None = None,
    drop_empty: bool = False,
) -> Table:
    """A :class:`Table`; with ``drop_empty`` a column whose every cell is empty or "–"
    is left out (it says nothing to the council)."""
    keep = list(range(len(headers)))
    if drop_empty:
        keep = [
            i for i in keep if not rows or any(row[i][2].strip() not in ("", "–") for row in rows)
        ]
    return Table(
        caption=caption,
        headers=[headers[i] for i in keep],
        rows=[[row[i] for i in keep] for row in rows],
        sheet=sheet,
    )


def render_table(t: Mapping[str, object]) -> str:
    """One table as HTML, by the same macro the pages use."""
    return str(environment().get_template("_tabell.html").module.tabell(t))
