"""Typed shapes of the analyst's YAML files ``kodbok.yml`` and the medborgarlöfte registers.

The shapes are pydantic v2 models (like :class:`trygghet_analys.config.KommunSettings` for
``kommun.yml``): a document is validated against its model *before* the readers in
:mod:`~trygghet_analys.files.codebook` and :mod:`~trygghet_analys.files.registers` check
what the values mean. The models check only shape — which keys exist, which are
required, and what type each value has (a list, a ``[min, max]`` pair, a mapping, a
text, a number) — so that a number where a list is expected or a text where a mapping
is expected is one Swedish line with file, line (from the YAML node marks, see
:func:`trygghet_analys.files._yaml.load_yaml_with_lines`) and key path, never a Python
traceback. Meaning (known categories, scales, indicators, areas) is checked by the
readers.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from ..errors import DataError
from ._yaml import key_path

__all__ = ["CodebookDoc", "RegisterDoc", "check_shape"]

#: a key or label as YAML reads it: text, or a number/boolean that stands for itself
_Label = str | int | float | bool
_Year = StrictInt | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


# ----------------------------------------------------------------------------- kodbok.yml
class _File(_Strict):
    format: str
    blad: str | int | None = None
    rader_ovanfor_rubrik: StrictInt = 0
    kodning: str = "auto"
    decimaltecken: str = "."
    avgransare: str = ";"


#: a label's target: a text, or (an unquoted ": " in the label) a mapping that the
#: codebook reader words as "quote the label"
_Target = _Label | dict[_Label, Any] | None


class _Layout(_Strict):
    namn: str | int | None = None
    ar: _Year | list[_Year]
    fil: _File
    kolumner: dict[_Label, str | dict[_Label, Any]]  # mapping: variabel, fran_ar, till_ar
    svar: dict[str, str | dict[_Label, _Target]] | None = None
    ignorera: list[Any] | _Label | None = None
    kommentar: str | None = None
    alder: str | None = None
    aldersgrupper: dict[_Label, _Target] | None = None
    seriebrott: str | dict[str, str] | None = None
    inget_seriebrott: str | dict[str, str] | None = None


class _Break(_Strict):
    variabel: str
    ar: StrictInt
    orsak: str | None = None


class _Summary(_Strict):
    ord: list[_Label] | None = None


class _AgeRange(_Strict):
    min: StrictInt = 16
    max: StrictInt = 85


class _Rules(_Strict):
    tom_rad: StrictBool | dict[str, Any] | None = None
    summeringsrad: StrictBool | _Summary | None = None
    saknar_omrade: StrictBool | dict[str, Any] | None = None
    alder_utanfor_urvalet: StrictBool | _AgeRange | None = None


class CodebookDoc(_Strict):
    """``kodbok.yml``; the keys are documented in ``docs/kodbok.md``."""

    version: Any = None
    kommentar: str | None = None
    variabler: dict[str, list[str]]
    aldersgrupper: (
        dict[str, Annotated[list[StrictInt], Field(min_length=2, max_length=2)]] | None
    ) = None
    uteslut: _Rules | None = None
    seriebrott: list[_Break] | None = None
    skalor: dict[str, dict[_Label, _Target]] | None = None
    layouter: list[_Layout]


# ------------------------------------------------------------------------------ registers
class _Signatory(_Strict):
    name: str
    role: str | None = None


class _Activity(_Strict):
    measure: str
    unit: str | None = None
    target: float | None = None


class _Link(_Strict):
    id: str
    direction: str
    group_var: str | None = None
    group: str | None = None


class _Commitment(_Strict):
    id: str | StrictInt
    focus_area: str
    text: str
    responsible: str
    activities: list[_Activity] | None = None
    indicators: list[_Link] | None = None
    forslag: StrictBool | str | None = None
    motivering: str | None = None


class RegisterDoc(_Strict):
    """A medborgarlöfte register ``<år>.yml``; keys in ``docs/medborgarloften.md``."""

    kommun: str
    year: StrictInt
    signed: dt.date | None = None
    signatories: list[_Signatory] | None = None
    focus_areas: list[str] | None = None
    commitments: list[_Commitment]
    exempel: StrictBool = False
    utkast: StrictBool = False


# --------------------------------------------------------------------------------- errors
#: What a value of the wrong type should have been, in the analyst's words.
_EXPECTED = {
    "int_type": "ett heltal",
    "int_parsing": "ett heltal",
    "int_from_float": "ett heltal",
    "float_type": "ett tal",
    "float_parsing": "ett tal",
    "bool_type": "true eller false",
    "bool_parsing": "true eller false",
    "string_type": "en text",
    "list_type": "en lista (- en rad per värde, eller [a, b])",
    "dict_type": "en nyckel–värde-lista (nyckel: värde, en per rad)",
    "model_type": "en nyckel–värde-lista (nyckel: värde, en per rad)",
    "model_attributes_type": "en nyckel–värde-lista (nyckel: värde, en per rad)",
    "date_type": "ett datum ÅÅÅÅ-MM-DD",
    "date_parsing": "ett datum ÅÅÅÅ-MM-DD",
    "date_from_datetime_parsing": "ett datum ÅÅÅÅ-MM-DD",
    "date_from_datetime_inexact": "ett datum ÅÅÅÅ-MM-DD",
    "none_required": "inget värde",
}


def _descend(ann: object, part: object) -> object:
    """The annotation one step below ``ann`` (a model's field, a list's item, a dict's
    value); through ``X | Y`` and ``Annotated``; None when nothing fits."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        field = ann.model_fields.get(part) if isinstance(part, str) else None
        return None if field is None else field.annotation
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is list:
        return args[0] if isinstance(part, int) else None
    if origin is dict:
        return args[1]
    if origin is Annotated:
        return _descend(args[0], part)
    if origin in (Union, types.UnionType):
        found = [d for a in args if (d := _descend(a, part)) is not None]
        if len(found) == 1:
            return found[0]
        return Union[tuple(found)] if found else None  # noqa: UP007
    return None


def _model_in(ann: object) -> type[BaseModel] | None:
    """The model class an annotation stands for (``X``, ``X | None``), if any."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    if typing.get_origin(ann) in (Union, types.UnionType, Annotated):
        for a in typing.get_args(ann):
            found = _model_in(a)
            if found is not None:
                return found
    return None


def _walk(model: type[BaseModel], doc: object, err: dict) -> tuple[tuple, object, object]:
    """Follow an error's location through the document: the key path that exists in the
    document (union member tags such as ``'str'`` dropped; a missing key kept last), the
    value found there, and the annotation of the mapping holding the last key."""
    loc = tuple(err["loc"])
    if err["type"] == "missing":
        loc, missing = loc[:-1], loc[-1]
    else:
        missing = None
    path: list[object] = []
    node: object = doc
    ann: object = model
    parent: object = model
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            continue  # a union member's tag ('str', '_Column'), not a key of the document
        path.append(part)
        parent, ann = ann, _descend(ann, part)
    if missing is not None:
        return (*path, missing), None, ann
    return tuple(path), node, parent


def _one_based(path: tuple) -> tuple:
    return tuple(p + 1 if isinstance(p, int) and not isinstance(p, bool) else p for p in path)


def check_shape(model: type[BaseModel], doc: object, *, file: str | Path,
                lines: dict[tuple, int]) -> BaseModel:  # fmt: skip
    """Validate ``doc`` against ``model``; the first problem as one Swedish line.

    Parameters
    ----------
    model
        :class:`CodebookDoc` or :class:`RegisterDoc`.
    doc
        The document as :func:`~trygghet_analys.files._yaml.load_yaml_with_lines` built it.
    file
        The file, for the message.
    lines
        Key path (1-based list positions) → line, from ``load_yaml_with_lines``.

    Raises
    ------
    DataError
        A key that is not allowed, a key that is missing or a value of the wrong type,
        naming file, line, key path and value.
    """
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise _shape_error(model, doc, exc, file, lines) from None


def _shape_error(
    model: type[BaseModel], doc: object, exc: ValidationError, file: str | Path, lines: dict
) -> DataError:
    walked = [(e, *_walk(model, doc, e)) for e in exc.errors()]
    # a union reports one error per member type: the deepest place is the most telling
    # (a wrong key inside a mapping, not "a text was expected" for the whole mapping);
    # several at the same place are said together ("en text eller en lista")
    # and a misspelt key before the missing key it was meant to be
    deepest = max(len(w[1]) for w in walked)
    candidates = [w for w in walked if len(w[1]) == deepest]
    candidates.sort(key=lambda w: w[0]["type"] != "extra_forbidden")
    first, path, node, holder = candidates[0]
    same = [w[0] for w in walked if w[1] == path]
    shown = _one_based(path)
    row = lines.get(shown)
    if row is None:
        for cut in range(len(shown) - 1, -1, -1):
            if shown[:cut] in lines:
                row = lines[shown[:cut]]
                break
    if first["type"] == "extra_forbidden":
        owner = _model_in(holder)
        known = ", ".join(owner.model_fields) if owner is not None else ""
        word = "reglerna" if owner is _Rules else "nycklarna"
        return DataError(
            f"en av {word} {known}", file=file, row=row, key=key_path(shown), value=path[-1]
        )
    if first["type"] == "missing":
        return DataError(f"nyckeln '{path[-1]}'", file=file, row=row, key=key_path(shown))
    wanted: list[str] = []
    for e in same:
        text = _EXPECTED.get(e["type"])
        if e["type"] in ("too_short", "too_long") or (
            len(path) == 2 and path[0] == "aldersgrupper" and e["type"] == "list_type"
        ):
            text = "ett par [min, max], t.ex. [16, 24]"
        if text is None:
            text = e["msg"]
        if text not in wanted:
            wanted.append(text)
    return DataError(
        " eller ".join(wanted),
        file=file,
        row=row,
        key=key_path(shown) or None,
        value=_shown_value(node),
    )


def _shown_value(node: object) -> object:
    if isinstance(node, dict | list):
        return None  # the key and line say where; a whole mapping is no value to show
    return node
