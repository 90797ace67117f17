"""Reading the analyst's YAML files (``kommun.yml``, ``kodbok.yml``, the registers) strictly.

PyYAML on its own lets the *last* of two equal keys win without a word: a codebook scale
defined twice with Ja/Nej swapped silently inverts a year's answers, and a second
``commitments: []`` in a register erases every commitment above it. A date that does not
exist (``2020-09-31``) makes it raise a plain ``ValueError`` that no YAML handler catches.

:func:`load_yaml` composes the document once (libyaml's parser when PyYAML has it), walks
the node tree and refuses, as one Swedish line naming file, line and key path:

* a key that occurs twice in the same mapping (the line of the second one, and where the
  first one stands);
* a date (``ÅÅÅÅ-MM-DD``) that does not exist in the calendar;
* text that is not YAML at all (the line where the parser gave up);

and only then constructs the Python objects. Alias bombs are refused before anything is
walked (:func:`trygghet_analys.files._limits.check_yaml_node`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from ..errors import DataError
from ._limits import check_yaml_node

__all__ = ["SAFE_LOADER", "key_path", "load_yaml", "load_yaml_with_lines"]

#: libyaml's safe loader when PyYAML was built with it (5–10× faster), else the pure one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


def key_path(parts: tuple[object, ...]) -> str:
    """``("skalor", "ja_nej")`` → ``skalor.ja_nej``; list positions as ``[n]`` (1-based)."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def load_yaml(
    text: str,
    *,
    file: str | Path,
    loader: type = SAFE_LOADER,
    expected: str = "giltig YAML",
) -> object:
    """Parse one YAML document, refusing duplicate keys and dates that do not exist.

    Parameters
    ----------
    text
        The file's text (already decoded).
    file
        The file, for messages.
    loader
        A loader class derived from PyYAML's safe loaders (default :data:`SAFE_LOADER`);
        its constructors build the result (e.g. mappings that remember their lines).
    expected
        What a syntax error says was expected ("giltig YAML", "giltig YAML i UTF-8").

    Returns
    -------
    object
        The document (``None`` for an empty file).

    Raises
    ------
    DataError
        One Swedish line with file, line and key path: a key twice in one mapping, a date
        that does not exist, or text that is not YAML.

    Examples
    --------
    >>> load_yaml("a: 1\\nb: [x, y]\\n", file="kommun.yml")
    {'a': 1, 'b': ['x', 'y']}
    >>> load_yaml("a: 1\\nb: 2\\na: 3\\n", file="kommun.yml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trygghet_analys.errors.DataError: Fel i data (fil 'kommun.yml', rad 3, nyckel 'a'): förväntade varje nyckel bara en gång per nivå (nyckeln 'a' står redan på rad 1; ...
    """
    return load_yaml_with_lines(text, file=file, loader=loader, expected=expected)[0]


def load_yaml_with_lines(
    text: str,
    *,
    file: str | Path,
    loader: type = SAFE_LOADER,
    expected: str = "giltig YAML",
) -> tuple[object, dict[tuple, int]]:
    """:func:`load_yaml`, and the 1-based line of every key path (``("omraden", 2)`` → 7).

    Typed settings use the lines to name where a wrong value stands.
    """
    lines: dict[tuple, int] = {}
    # every key and value in Unicode form NFC: "Södra" saved as NFD is "Södra"
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    ld = loader(text)
    try:
        try:
            node = ld.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            raise DataError(
                expected, file=file, row=None if mark is None else mark.line + 1
            ) from exc
        if node is None:
            return None, lines
        # an alias bomb would hang whatever walks the document: counted on the composed
        # document (aliases are shared nodes there, so composing it was linear)
        check_yaml_node(node, file=file)
        _check_node(node, (), file, set(), lines)
        try:
            return ld.construct_document(node), lines
        except yaml.YAMLError as exc:  # e.g. an unhashable key, an unknown !!tag
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            raise DataError(
                expected, file=file, row=None if mark is None else mark.line + 1
            ) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise DataError(expected, file=file) from exc
    finally:
        ld.dispose()


def _scalar_key(node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        # "Ja" and "Ja" in another Unicode form are the same key to the analyst
        return unicodedata.normalize("NFC", node.value)
    return None  # complex keys: PyYAML itself refuses the unhashable ones


def _check_node(
    node: yaml.Node, path: tuple, file: str | Path, seen: set[int], lines: dict[tuple, int]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:  # an alias: its node was checked where the anchor stands
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                _check_node(value_node, path, file, seen, lines)
                continue
            key = _scalar_key(key_node)
            line = key_node.start_mark.line + 1
            if key is not None:
                if key in first:
                    raise DataError(
                        f"varje nyckel bara en gång per nivå (nyckeln '{key}' står redan på "
                        f"rad {first[key]}; annars ersätter den senare tyst den förra — ta "
                        "bort eller byt namn på den ena)",
                        file=file,
                        row=line,
                        key=key_path((*path, key)),
                    )
                first[key] = line
                lines[(*path, key)] = line  # a key's own line, not its value's
            _check_node(value_node, (*path, key if key is not None else "?"), file, seen, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value, start=1):
            _check_node(child, (*path, i), file, seen, lines)
    elif isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP_TAG:
        m = _DATE.match(node.value)
        try:
            if m is None:
                raise ValueError(node.value)
            dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise DataError(
                "ett datum som finns i kalendern (ÅÅÅÅ-MM-DD)",
                file=file,
                row=node.start_mark.line + 1,
                key=key_path(path) or None,
                value=node.value,
            ) from None
