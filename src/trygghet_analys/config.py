"""Paths and kommun settings: the one place that knows where files live.

A *data folder* (``--data DIR``) holds ``raw/``, ``processed/`` and optionally
``external/``. It holds either one kommun::

    DIR/raw/kommun.yml
    DIR/raw/trygghetsmatning/{kodbok.yml, population.csv, 2005.xlsx, ..., 2025.csv}
    DIR/raw/avloppsvatten/...
    DIR/raw/medborgarloften/{2022.yml, ..., aktiviteter.csv}

or several (a police region), each in a folder of its own with the same layout::

    DIR/raw/kommuner/<slug>/kommun.yml
    DIR/raw/kommuner/<slug>/trygghetsmatning/...

Processed tables always cover every kommun in the folder and carry a ``kommun`` column.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, DataError
from .files._io import read_text_any
from .files._open import list_raw, raw_exists
from .files._yaml import key_path, load_yaml_with_lines
from .stats.disclosure import DEFAULT_MIN_N

__all__ = [
    "DEFAULT_MIN_N",
    "DataFolder",
    "KommunConfig",
    "KommunSettings",
    "default_data_dir",
    "load_kommuner",
    "repo_root",
]

KOMMUN_FILE = "kommun.yml"


def repo_root() -> Path:
    """The repository this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").exists() and (here / "data").is_dir():
        return here
    return Path.cwd()


def default_data_dir() -> Path:
    return repo_root() / "data"


@dataclass(frozen=True)
class KommunConfig:
    """Settings of one kommun, read from its ``kommun.yml``.

    Attributes
    ----------
    name : the kommun's name as it appears in every table and chart ("Älmhult").
    slug : a file-name-safe id ("almhult").
    raw : the kommun's raw folder (holding ``trygghetsmatning/`` etc.).
    min_n : disclosure threshold: estimates from fewer respondents are suppressed.
    strata : the survey's areas (områden) in display order.
    synthetic : True for the bundled example data; every chart and page then says so.
    extra : any other keys of ``kommun.yml`` (e.g. the wastewater plant).
    """

    name: str
    slug: str
    raw: Path
    min_n: int = DEFAULT_MIN_N
    strata: tuple[str, ...] = ()
    synthetic: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def survey_dir(self) -> Path:
        return self.raw / "trygghetsmatning"

    @property
    def wastewater_dir(self) -> Path:
        return self.raw / "avloppsvatten"

    @property
    def commitments_dir(self) -> Path:
        return self.raw / "medborgarloften"


def base_year(kommun: KommunConfig, *, register_years: list[int] | None = None) -> int | None:
    """The kommun's base year: ``basar`` in ``kommun.yml``, else the year before its
    first medborgarlöfte register (the year before the current commitment period).

    ``register_years`` are the years of its registers (the report passes those of
    ``processed/commitment_registers``); default the register files in
    ``raw/medborgarloften/``.
    """
    if "basar" in kommun.extra:
        base = kommun.extra["basar"]
    else:
        years = _register_years(kommun) if register_years is None else register_years
        base = min(years) - 1 if years else None
    return None if base is None else int(base)


def _register_years(kommun: KommunConfig) -> list[int]:
    """The years of the register files ``<year>.yml`` in ``raw/medborgarloften/``."""
    return [
        int(p.stem)
        for p in list_raw(kommun.commitments_dir)
        if p.suffix == ".yml" and p.stem.isdigit()
    ]


@dataclass(frozen=True)
class DataFolder:
    """A data folder: ``raw/`` (read only), ``processed/`` and ``external/``."""

    root: Path

    @classmethod
    def at(cls, path: str | Path | None) -> DataFolder:
        root = Path(path) if path is not None else default_data_dir()
        if not (root / "raw").is_dir():
            raise ConfigError(
                f"Datamappen '{root}' saknar undermappen 'raw/' "
                "(ange en mapp med raw/ och processed/ med --data)"
            )
        return cls(root)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    @property
    def external(self) -> Path:
        return self.root / "external"

    def kommuner(self) -> list[KommunConfig]:
        return load_kommuner(self.raw)

    def kommun(self, name: str | None = None) -> KommunConfig:
        """The one kommun named ``name``; ``None`` is allowed when the folder holds one."""
        found = self.kommuner()
        if name is None:
            if len(found) == 1:
                return found[0]
            names = ", ".join(k.name for k in found)
            raise ConfigError(
                f"Datamappen '{self.root}' innehåller {len(found)} kommuner ({names}); "
                "välj en med --kommun"
            )
        for k in found:
            if name in (k.name, k.slug):
                return k
        names = ", ".join(k.name for k in found)
        raise ConfigError(f"Kommunen '{name}' finns inte i '{self.root}' (finns: {names})")


class KommunSettings(BaseModel):
    """The keys of ``kommun.yml``, typed (pydantic v2, lax: ``min_n: "30"`` is 30).

    An unknown key is refused (a misspelt ``min-n`` would otherwise be ignored without a
    word); every key is documented in ``docs/radata.md``.
    """

    model_config = ConfigDict(extra="forbid", strict=False)

    kommun: str
    slug: str | None = None
    min_n: int = Field(DEFAULT_MIN_N, ge=1)
    omraden: list[str] = []
    exempeldata: bool = False
    basar: int | None = Field(None, ge=1900, le=2100)
    loq_policy: Literal["zero", "half_loq", "loq"] = "zero"
    ensamt_stratum: Literal["stopp", "slå_ihop", "ta_bort"] = "stopp"
    framtida_kampanjer: bool = False
    jamforelsestader: list[Any] | None = None  # checked in detail by wastewater.euda


#: What a wrong value of each kind should have been, in the analyst's words.
_EXPECTED = {
    "int_parsing": "ett heltal",
    "int_type": "ett heltal",
    "int_from_float": "ett heltal",
    "bool_parsing": "true eller false",
    "bool_type": "true eller false",
    "string_type": "en text",
    "list_type": "en lista (- en rad per värde, eller [a, b])",
    "missing": "nyckeln",
}


def _settings_error(exc: ValidationError, path: Path, lines: dict[tuple, int]) -> DataError:
    """The first of pydantic's errors as one Swedish line with file, line and key path."""
    err = exc.errors()[0]
    loc = tuple(x + 1 if isinstance(x, int) else x for x in err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        known = ", ".join(KommunSettings.model_fields)
        return DataError(
            f"en av nycklarna {known} (se docs/radata.md)",
            file=path,
            row=lines.get(loc),
            key=key_path(loc),
            value=loc[-1],
        )
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "").replace("'", "").replace(" or ", ", ")
        expected = f"ett av: {allowed}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        field = KommunSettings.model_fields.get(str(loc[0]))
        bounds = [getattr(m, "ge", None) or getattr(m, "le", None) for m in field.metadata]
        expected = (
            "ett positivt heltal"
            if loc[0] == "min_n"
            else "ett årtal mellan " + " och ".join(str(b) for b in bounds if b is not None)
        )
    else:
        expected = _EXPECTED.get(kind, err["msg"])
    return DataError(
        expected,
        file=path,
        row=lines.get(loc) or lines.get(loc[:1]),
        key=key_path(loc),
        value=None if kind == "missing" else value,
    )


def _read_kommun_file(path: Path) -> KommunConfig:
    text, _encoding = read_text_any(path)  # Notepad's "ANSI" (CP1252) is read too
    return _kommun_config(path, text)


@functools.lru_cache(maxsize=1024)
def _kommun_config(path: Path, text: str) -> KommunConfig:
    """A ``kommun.yml``'s text, checked, as a :class:`KommunConfig`.

    Kept per path and text for the process: a region's report run asks for all 58
    kommuners settings a few times per kommun. :func:`_read_kommun_file` reads the file
    (with its checks) every time; only a text seen before is not parsed and validated
    again. A file that fails raises, which ``lru_cache`` does not keep, so it is checked
    and refused every time.
    """
    # alias bombs, duplicate keys and dates that do not exist are refused naming the line
    doc, lines = load_yaml_with_lines(text, file=path)
    doc = doc or {}
    if not isinstance(doc, dict) or not doc.get("kommun"):
        raise DataError("nyckeln 'kommun' med kommunens namn", file=path)
    try:
        settings = KommunSettings.model_validate(doc)
    except ValidationError as exc:
        raise _settings_error(exc, path, lines) from None
    known = {"kommun", "slug", "min_n", "omraden", "exempeldata"}
    extra = settings.model_dump(exclude=known, exclude_unset=True)
    return KommunConfig(
        name=settings.kommun,
        slug=settings.slug or path.parent.name,
        raw=path.parent,
        min_n=settings.min_n,
        strata=tuple(settings.omraden),
        synthetic=settings.exempeldata,
        extra=extra,
    )


def load_kommuner(raw: Path) -> list[KommunConfig]:
    """Every kommun configured under a raw folder, sorted by name."""
    single = raw / KOMMUN_FILE
    if raw_exists(single):  # also a folder or dangling link: reading it says what is wrong
        cfg = _read_kommun_file(single)
        if cfg.slug == raw.name:
            cfg = KommunConfig(**{**cfg.__dict__, "slug": _slugify(cfg.name)})
        return [cfg]
    files = [d / KOMMUN_FILE for d in list_raw(raw / "kommuner") if raw_exists(d / KOMMUN_FILE)]
    if not files:
        raise ConfigError(
            f"Hittar ingen kommun i '{raw}': förväntade '{raw / KOMMUN_FILE}' "
            f"eller '{raw / 'kommuner'}/<kommun>/{KOMMUN_FILE}'"
        )
    return sorted((_read_kommun_file(f) for f in files), key=lambda k: k.name)


def _slugify(name: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "a", "Ä": "a", "Ö": "o", " ": "-"})
    return "".join(c for c in name.translate(table).lower() if c.isalnum() or c == "-")
