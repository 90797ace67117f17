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

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, DataError
from .files._io import read_text_any
from .files._open import list_raw, raw_exists
from .files._yaml import load_yaml
from .stats.disclosure import DEFAULT_MIN_N

__all__ = [
    "DEFAULT_MIN_N",
    "DataFolder",
    "KommunConfig",
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


def _read_kommun_file(path: Path) -> KommunConfig:
    text, _encoding = read_text_any(path)  # Notepad's "ANSI" (CP1252) is read too
    # alias bombs, duplicate keys and dates that do not exist are refused naming the line
    doc = load_yaml(text, file=path) or {}
    if not isinstance(doc, dict) or not doc.get("kommun"):
        raise DataError("nyckeln 'kommun' med kommunens namn", file=path)
    min_n = doc.get("min_n", DEFAULT_MIN_N)
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 1:
        raise DataError("ett positivt heltal", file=path, column="min_n", value=min_n)
    known = {"kommun", "slug", "min_n", "omraden", "exempeldata"}
    return KommunConfig(
        name=str(doc["kommun"]),
        slug=str(doc.get("slug") or path.parent.name),
        raw=path.parent,
        min_n=min_n,
        strata=tuple(str(s) for s in doc.get("omraden", []) or []),
        synthetic=bool(doc.get("exempeldata", False)),
        extra={k: v for k, v in doc.items() if k not in known},
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
