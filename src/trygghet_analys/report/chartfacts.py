"""What a drawn chart shows, measured on its matplotlib objects, for the report checker.

The report saves, beside every figure, ``figurer/<name>.json`` from :func:`figure_facts`:
the extent of every visible text (title, axis labels, tick labels, legend, notes) in
pixels, each legend entry and whether an artist with that label is drawn and visible,
the ``gid`` of every drawn element, and the texts a reader meets (title, caption, alt
text). :mod:`.granska` reads these files; it never needs the data folder, and it checks
the very figure that was saved, not a new drawing of it.

Why a file and not a re-rendering: the checker runs on a finished folder (possibly
copied elsewhere, without ``data/``), and a second drawing could differ from the one
that was shipped (other fonts, another matplotlib).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.container import Container
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.offsetbox import DrawingArea, HPacker, TextArea, VPacker
from matplotlib.patches import Patch
from matplotlib.spines import Spine
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["artist_is_shown", "facts_json", "figure_artists", "figure_facts"]

#: Pixels that must change when a legend entry's artists are hidden for them to count as
#: seen (an artist drawn exactly under another one changes none).
MIN_VISIBLE_PIXELS = 4

#: Pixels a text may reach beyond the figure edge (anti-aliasing) before it counts as cut.
TOLERANCE_PX = 1.0


def _finite_points(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return xy[np.isfinite(xy).all(axis=1)]


def _inside(points: np.ndarray, ax: Axes | None) -> bool:
    """Whether any point lies inside the Axes' view (data coordinates)."""
    if len(points) == 0:
        return False
    if ax is None:
        return True
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    eps_x, eps_y = (x1 - x0) * 1e-9, (y1 - y0) * 1e-9
    hit = (
        (points[:, 0] >= x0 - eps_x)
        & (points[:, 0] <= x1 + eps_x)
        & (points[:, 1] >= y0 - eps_y)
        & (points[:, 1] <= y1 + eps_y)
    )
    return bool(hit.any())


def artist_is_shown(artist: Artist | Container) -> bool:
    """True when ``artist`` is visible and draws something inside its Axes.

    A line needs a finite point inside the view and a line style or marker; a
    collection (band, whiskers) a finite vertex inside the view; a bar container a bar
    of finite, non-zero width; a patch (shaded period) only visibility. Artists with
    alpha 0 or the colour "none" everywhere count as not shown.
    """
    if isinstance(artist, Container):
        return any(artist_is_shown(a) for a in artist if isinstance(a, Artist))
    if not artist.get_visible() or artist.get_alpha() == 0:
        return False
    ax = artist.axes
    if isinstance(artist, Line2D):
        styled = artist.get_linestyle() not in (
            "None",
            "none",
            "",
            " ",
        ) or artist.get_marker() not in (
            "None",
            "none",
            "",
            " ",
            None,
        )
        if not styled:
            return False
        if artist.get_transform() != (ax.transData if ax is not None else None):
            return len(_finite_points(artist.get_xydata())) > 0
        return _inside(_finite_points(artist.get_xydata()), ax)
    if isinstance(artist, Collection):
        points = [p.vertices for p in artist.get_paths() if len(p.vertices)]
        if not points:
            return False
        xy = _finite_points(np.concatenate(points))
        if ax is None or artist.get_transform() != ax.transData:
            return len(xy) > 0
        return _inside(xy, ax)
    if isinstance(artist, Patch):
        bbox = artist.get_bbox() if hasattr(artist, "get_bbox") else None
        if bbox is not None and hasattr(artist, "get_width"):
            width, height = artist.get_width(), artist.get_height()
            return bool(np.isfinite([width, height]).all() and (abs(width) > 0 or abs(height) > 0))
        return True
    if isinstance(artist, Text):
        return bool(artist.get_text().strip())
    return True


def _existing_ticks(axis: Axis) -> list[Artist]:
    """What ``Axis.get_children`` returns, without making ticks the axis lacks.

    ``get_children`` asks for as many major and minor ticks as the locators place and
    makes the missing ones. An Axes with its axes switched off (``set_axis_off``, as in
    the commitments table) never draws or measures its ticks, so asking for them only
    makes objects; a new tick has an empty label and no gid, so nothing gathered from
    the artists (texts, legends, gids) can differ without it. The ticks the axis has
    are returned as ``get_children`` returns them.
    """
    major = axis.__dict__.get("majorTicks", [])  # the class attribute makes a first tick
    minor = axis.__dict__.get("minorTicks", [])
    return [
        axis.label,
        axis.offsetText,
        *major[: len(axis.get_majorticklocs())],
        *minor[: len(axis.get_minorticklocs())],
    ]


def figure_artists(fig: Figure) -> list[Artist]:
    """``fig.findobj()``: every artist of the figure, children before their parent, in
    the same order, except new ticks on Axes whose axes are off (:func:`_existing_ticks`)."""
    found: list[Artist] = []

    def walk(artist: Artist) -> None:
        if isinstance(artist, Axis) and not artist.axes.axison:
            children = _existing_ticks(artist)
        else:
            children = artist.get_children()
        for child in children:
            walk(child)
        found.append(artist)

    walk(fig)
    return found


def _round(value: float) -> float:
    return 0.0 if not math.isfinite(value) else round(float(value), 1)


def _tick_labels(ax: Axes) -> Iterable[Text]:
    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi = sorted(limits)
        pad = (hi - lo) * 1e-9
        for tick in axis.get_major_ticks():
            loc = tick.get_loc()
            if loc is None or not (lo - pad <= loc <= hi + pad):
                continue
            for label in (tick.label1, tick.label2):
                if label.get_visible():
                    yield label


def _texts(fig: Figure) -> Iterable[tuple[str, Text]]:
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        yield "suptitle", suptitle
    for text in fig.texts:
        yield "figurtext", text
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        for loc in ("left", "center", "right"):
            yield (
                "titel",
                ax._left_title
                if loc == "left"
                else (ax.title if loc == "center" else ax._right_title),
            )
        if ax.axison:
            yield "x-axelns rubrik", ax.xaxis.label
            yield "y-axelns rubrik", ax.yaxis.label
            for label in _tick_labels(ax):
                yield "axeltext", label
        for text in ax.texts:
            yield "text", text
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            for text in legend.get_texts():
                yield "teckenförklaring", text
    for legend in fig.legends:
        for text in legend.get_texts():
            yield "teckenförklaring", text


def _draw_nothing(*args: object, **kwargs: object) -> None:
    """An artist's ``draw`` that paints nothing (see :func:`_pixels`)."""


def _pixels(
    fig: Figure,
    hidden: Iterable[Artist] = (),
    *,
    unpainted: Iterable[Artist] = (),
    copy: bool = True,
) -> np.ndarray | None:
    """The figure drawn anew on its Agg canvas, with ``hidden`` made invisible and
    ``unpainted`` not painted (a view of the canvas's buffer, valid until the next
    drawing, when not ``copy``).

    An unpainted artist stays visible: whatever is placed from its extent (an axis
    label from the tick labels, a title above them) is placed as in the full drawing;
    only its ``draw`` does nothing.
    """
    if not isinstance(fig.canvas, FigureCanvasAgg):
        return None
    hidden, unpainted = list(hidden), list(unpainted)
    before = [a.get_visible() for a in hidden]
    own = [a.__dict__.get("draw") for a in unpainted]
    for a in hidden:
        a.set_visible(False)
    for a in unpainted:
        a.draw = _draw_nothing
    try:
        fig.canvas.draw()
    finally:
        for a, v in zip(hidden, before, strict=True):
            a.set_visible(v)
        for a, draw in zip(unpainted, own, strict=True):
            if draw is None:
                del a.draw
            else:
                a.draw = draw
    pixels = np.asarray(fig.canvas.buffer_rgba())
    return pixels.copy() if copy else pixels


def _changed_pixels(
    a: np.ndarray,
    b: np.ndarray,
    region: np.ndarray | None = None,
    window: tuple[slice, slice] | None = None,
) -> int:
    """How many pixels of two RGBA images of one shape differ in any channel (inside
    ``region``, a boolean mask of rows × columns, when given; only the rows and
    columns of ``window`` are compared, ``region`` being the mask of that window)."""
    rows, cols = window if window is not None else (slice(None), slice(None))
    if a.dtype == np.uint8 and a.shape[-1] == 4 and a.flags.c_contiguous and b.flags.c_contiguous:
        # one 32-bit word per pixel: a pixel differs when its word does
        differ = a.view(np.uint32)[rows, cols, 0] != b.view(np.uint32)[rows, cols, 0]
    else:
        differ = (a[rows, cols] != b[rows, cols]).any(axis=-1)
    if region is not None:
        differ &= region
    return int(np.count_nonzero(differ))


#: Pixels added around a clip box (Agg rounds it to whole pixels) for the region where
#: a clipped artist can paint; far texts keep :data:`_PAD_PX` twice away from the box.
_CLIP_PAD_PX = 1.0


def _clip_window(artists: list[Artist], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The rows (from the top) and columns of the smallest rectangle holding
    :func:`_clip_region`: outside it nothing of ``artists`` is painted or compared."""
    height, width = shape[0], shape[1]
    r0, r1, c0, c1 = height, 0, width, 0
    for a in artists:
        x0, y0, x1, y1 = np.clip(a.get_clip_box().padded(_CLIP_PAD_PX).extents, -1, 1e7)
        c0, c1 = min(c0, max(0, math.floor(x0))), max(c1, min(width, math.ceil(x1)))
        r0 = min(r0, max(0, math.floor(height - y1)))
        r1 = max(r1, min(height, math.ceil(height - y0)))
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _clip_region(
    artists: list[Artist], shape: tuple[int, ...], window: tuple[slice, slice] | None = None
) -> np.ndarray:
    """The pixels (rows from the top × columns) where ``artists``, each clipped to its
    clip box, can paint: every box padded by :data:`_CLIP_PAD_PX`, rounded outwards
    (the mask of ``window``, :func:`_clip_window`, when given; of the image otherwise)."""
    height, width = shape[0], shape[1]
    if window is None:
        window = slice(0, height), slice(0, width)
    top, left = window[0].start, window[1].start
    region = np.zeros((window[0].stop - top, window[1].stop - left), dtype=bool)
    for a in artists:
        x0, y0, x1, y1 = np.clip(a.get_clip_box().padded(_CLIP_PAD_PX).extents, -1, 1e7)
        c0, c1 = max(0, math.floor(x0)), min(width, math.ceil(x1))
        r0, r1 = max(0, math.floor(height - y1)), min(height, math.ceil(height - y0))
        region[max(0, r0 - top) : max(0, r1 - top), max(0, c0 - left) : max(0, c1 - left)] = True
    return region


def _members(artist: Artist | Container) -> list[Artist]:
    if isinstance(artist, Container):
        return [a for a in artist if isinstance(a, Artist)]
    return [artist]


def _drawn_pixels(fig: Figure) -> np.ndarray | None:
    """A copy of what the Agg canvas holds now (the figure as last drawn), no new drawing."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        return None
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _reach_pt(artist: Artist) -> float:
    """How far (points) ``artist`` paints beyond its window extent: half the stroke of a
    line (caps, marker edges; its extent holds the markers), the whole stroke of a
    patch or collection (corner joins), nothing for a text."""
    if isinstance(artist, Text):
        return 0.0
    if isinstance(artist, Line2D):
        return 0.5 * max(artist.get_linewidth(), artist.get_markeredgewidth())
    return float(np.max(artist.get_linewidth(), initial=0.0))


#: What a legend holds that paints nothing itself (it places its children).
_PLACING = (VPacker, HPacker, TextArea, DrawingArea)


class _TextExtents:
    """``Text.get_window_extent(renderer)`` measured once per text, for one drawn figure.

    :func:`figure_facts` measures a text as a text the reader meets, a tick label
    beside its neighbours, and where it paints (:func:`_text_reach`,
    :func:`_legend_reach`), all before the legend check draws anything: nothing moves
    a text in between, so each text is measured once. The extents are only read
    (``padded`` and ``union`` make new boxes).
    """

    def __init__(self, renderer: object) -> None:
        self.renderer = renderer
        #: the text (kept alive, its id is the key) and its extent
        self.found: dict[int, tuple[Text, Bbox]] = {}

    def __call__(self, text: Text) -> Bbox:
        kept = self.found.get(id(text))
        if kept is None:
            kept = self.found[id(text)] = (text, text.get_window_extent(self.renderer))
        return kept[1]


def _extent(artist: Artist, renderer: object, texts: _TextExtents | None) -> Bbox:
    """``artist``'s window extent, a text's from ``texts`` when given."""
    if texts is not None and isinstance(artist, Text) and texts.renderer is renderer:
        return texts(artist)
    return artist.get_window_extent(renderer)


def _legend_reach(
    legend: Legend, renderer: object, texts: _TextExtents | None = None
) -> list[Bbox] | None:
    """Where a visible legend paints: the extent of every visible frame, handle and text
    in it, each padded by its own line width and :data:`_PAD_PX`. None when it may
    paint further (a shadow, path effects, a text in a box, a part of another kind) or
    is not shown."""
    if not legend.get_visible() or legend.shadow:
        return None
    boxes = []
    for a in legend.findobj(lambda a: a is not legend):
        if isinstance(a, _PLACING):
            continue
        if not isinstance(a, (Text, Line2D, Patch, Collection)) or a.get_path_effects():
            return None
        if not a.get_visible() or (isinstance(a, Text) and not a.get_text()):
            continue
        if isinstance(a, Text) and a.get_bbox_patch() is not None:
            return None
        box = _extent(a, renderer, texts)
        if not np.isfinite(box.get_points()).all():
            return None
        boxes.append(box.padded(_PAD_PX + renderer.points_to_pixels(_reach_pt(a))))
    return boxes


def _text_reach(text: Text, renderer: object, texts: _TextExtents | None = None) -> Bbox | None:
    """Where a drawn text paints, padded by :data:`_PAD_PX`: its extent, and that of its
    box (e.g. the "Exempeldata" label) padded by the box's line width as well. None when
    the box may paint further (path effects, a box whose extent is not finite)."""
    box = _extent(text, renderer, texts)
    patch = text.get_bbox_patch()
    if patch is not None and patch.get_visible():
        if patch.get_path_effects():
            return None
        frame = patch.get_window_extent(renderer)
        if not np.isfinite(frame.get_points()).all():
            return None
        reach = renderer.points_to_pixels(_reach_pt(patch))
        return Bbox.union([box.padded(_PAD_PX), frame.padded(_PAD_PX + reach)])
    return box.padded(_PAD_PX)


#: Whether the drawings per legend entry leave out the texts and legends that cannot
#: touch the entry's pixels (see :class:`_EntryCheck`); the tests turn it off to compare
#: with full drawings (the reference).
SKIP_FAR_ARTISTS = True

#: Pixels added around a clip box and around a text's extent (anti-aliasing, rounding to
#: whole pixels) before deciding that the text cannot touch the clip box.
_PAD_PX = 3.0


def _no_layout(*args: object, **kwargs: object) -> None:
    """A placing step that leaves every text where the last drawing put it."""


#: What may be hidden in a drawing whose layout is kept (:class:`_KeptLayout`): artists
#: that no title, axis label or offset text is placed from.
_PLAIN = (Line2D, Collection, Patch)


class _KeptLayout:
    """The placing steps of a drawing left out, for drawings after a full one.

    In every drawing matplotlib places the titles above the tick labels
    (``Axes._update_title_position``), the axis labels beside them and the offset texts
    (``Axis._update_label_position``, ``_update_offset_text_position``), measuring each
    tick label again. Between the full drawing and the legend check's drawings nothing
    those steps read changes: the same figure, size and renderer, the same ticks
    (:func:`~.plotting.reuse_ticks`), the same texts (far ones are measured, not
    painted); only lines, bands and bars are hidden, which they never read. So they
    would put every text where it already is, and are not run (the tick label extents
    that ``Axis.draw`` still asks for are given as first measured). Used only while
    :data:`SKIP_FAR_ARTISTS` is on: the tests compare with full drawings without it.
    """

    def __init__(self, fig: Figure) -> None:
        self.steps: list[tuple[object, str, object]] = []
        for ax in fig.get_axes():
            self.steps.append((ax, "_update_title_position", _no_layout))
            for axis in ax._axis_map.values():
                self.steps.append((axis, "_update_label_position", _no_layout))
                self.steps.append((axis, "_update_offset_text_position", _no_layout))
                self.steps.append(
                    (axis, "_get_ticklabel_bboxes", _first_measured(axis._get_ticklabel_bboxes))
                )

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        """The steps left out while the block runs, matplotlib's own back afterwards."""
        own = [obj.__dict__.get(name) for obj, name, _ in self.steps]
        for obj, name, step in self.steps:
            setattr(obj, name, step)
        try:
            yield
        finally:
            for (obj, name, _), before in zip(self.steps, own, strict=True):
                if before is None:
                    delattr(obj, name)
                else:
                    setattr(obj, name, before)


def _first_measured(measure: Callable[..., object]) -> Callable[..., object]:
    """``Axis._get_ticklabel_bboxes`` answering as it first did for the same ticks."""
    found: dict[tuple[int, ...], tuple[list[object], object]] = {}

    def measured(ticks: list[object], renderer: object) -> object:
        key = (id(renderer), *map(id, ticks))
        if key not in found:
            found[key] = ([renderer, *ticks], measure(ticks, renderer))
        return found[key][1]

    return measured


#: Whether an entry's drawing starts from the image as it was just before its first
#: artist painted and paints only what comes after it (see :class:`_Layers`); the tests
#: turn it off to compare with whole drawings (the reference).
REPLAY_LAYERS = True


def _paint_steps(fig: Figure) -> list[Artist]:
    """The artists whose ``draw`` is one step of painting ``fig``: its patch and its
    children, and for an Axes each of its children (its patch, spines, axes, lines …)
    instead of the Axes itself. A step paints onto the canvas and reads nothing that an
    earlier step leaves behind but the pixels."""
    steps: list[Artist] = [fig.patch]
    for child in fig.get_children():
        if child is fig.patch:
            continue
        steps.extend(child.get_children() if isinstance(child, Axes) else [child])
    return steps


def _unpainted(artists: list[Artist]) -> contextlib.AbstractContextManager[None]:
    """``artists`` not painted while the block runs (see :func:`_pixels`)."""
    return _each_step(artists, _draw_nothing)


@contextlib.contextmanager
def _each_step(steps: list[Artist], step: Callable[..., None]) -> Iterator[None]:
    """Every step's ``draw`` replaced by ``step(artist, draw, renderer)`` (``draw`` is the
    artist's own, or the one it has now, e.g. :func:`_draw_nothing`) while the block
    runs; their own ``draw`` back afterwards."""
    own = [a.__dict__.get("draw") for a in steps]
    for a in steps:
        a.draw = functools.partial(step, a, a.draw)
    try:
        yield
    finally:
        for a, draw in zip(steps, own, strict=True):
            if draw is None:
                del a.draw
            else:
                a.draw = draw


def _replayable(fig: Figure) -> bool:
    """Whether a drawing of ``fig`` is its steps (:func:`_paint_steps`) painted one after
    the other onto the canvas: an Agg canvas, no layout engine that places the Axes
    anew, no images (composited together, not painted one by one)."""
    engine = fig.get_layout_engine()
    return (
        isinstance(fig.canvas, FigureCanvasAgg)
        and (engine is None or isinstance(engine, PlaceHolderLayoutEngine))
        and not fig.images
        and not any(ax.images for ax in fig.get_axes())
    )


class _Layers:
    """The image as it was just before each legend entry's first artist painted.

    A drawing paints its steps (:func:`_paint_steps`) one after the other; a step
    painted before an entry's first artist paints the same whether the entry is hidden
    or not. So the drawing with the entry hidden is: the image just before its first
    artist, then the steps after it, the entry's artists hidden. One drawing of the
    figure keeps that image for every entry (it stops painting once the last is kept);
    each entry then paints only the steps after its first artist (:meth:`replay`), not
    the figure patch, the Axes patches, the axes with their ticks and grid lines (drawn
    first in every chart) and the artists below it. The count of changed pixels is the
    one between whole drawings (``tests/test_granska.py`` compares them).
    """

    def __init__(
        self,
        fig: Figure,
        entries: list[list[Artist]],
        unpainted: list[Artist],
        *,
        drawing: bool = True,
    ) -> None:
        self.fig = fig
        self.steps = _paint_steps(fig)
        #: position of each step in the drawing's order (matplotlib sorts by zorder)
        self.order: dict[int, int] = {}
        #: per entry (its artists' ids): the position of its first artist, and the image
        #: just before it
        self.first: dict[tuple[int, ...], int] = {}
        self.before: dict[tuple[int, ...], np.ndarray] = {}
        waiting: dict[int, list[tuple[int, ...]]] = {}
        for artists in entries:
            key = tuple(id(a) for a in artists)
            for a in artists:
                waiting.setdefault(id(a), []).append(key)
        left = {key for keys in waiting.values() for key in keys}

        #: a step met twice: the block of :func:`layers_kept` drew the figure again
        self.redrawn = False
        #: the steps in the drawing's order (``sequence[order[id(step)]] is step`` when
        #: no step was met twice)
        self.sequence: list[Artist] = []

        def keep(artist: Artist, draw: Callable[..., None], renderer: object) -> None:
            self.redrawn |= id(artist) in self.order
            self.order[id(artist)] = len(self.order)
            self.sequence.append(artist)
            for key in waiting.get(id(artist), ()):
                if key in left:
                    self.first[key] = self.order[id(artist)]
                    self.before[key] = np.asarray(renderer.buffer_rgba()).copy()
                    left.discard(key)
            # nothing after the last entry's first artist is needed, but in a drawing
            # made for its own sake (:func:`layers_kept`)
            if left or not drawing:
                draw(renderer)

        #: every step's ``draw`` keeping the images (for a drawing made elsewhere)
        self.keeping = functools.partial(_each_step, self.steps, keep)
        if drawing:
            with _unpainted(unpainted), self.keeping():
                fig.canvas.draw()

    def covers(self, entries: list[list[Artist]]) -> bool:
        """Whether the image before the first artist of each of ``entries`` was kept."""
        return not self.redrawn and all(
            tuple(id(a) for a in artists) in self.first for artists in entries
        )

    def replay(self, artists: list[Artist], unpainted: list[Artist]) -> np.ndarray | None:
        """The drawing with ``artists`` hidden and ``unpainted`` not painted, inside the
        rectangle of their clip boxes (:func:`_clip_window`): the image before their
        first artist, then only the steps after it (a view of the canvas's buffer,
        whose pixels outside that rectangle are left as they were); None when their
        first artist was not met.

        The steps after it are painted one by one, in the order the drawing painted
        them, not through ``Figure.draw`` and ``Axes.draw``: those only place and sort
        their children (as in the drawing, the layout being kept) and paint each step
        in turn. Every step blends its colours into the pixels it covers, so a pixel
        inside the rectangle depends only on its value before and on the steps: the
        pixels outside it need not be copied back.
        """
        key = tuple(id(a) for a in artists)
        first = self.first.get(key)
        if first is None:
            return None
        later = self._later(first)
        renderer = self.fig.canvas.get_renderer()
        buffer = np.asarray(renderer.buffer_rgba())
        rows, cols = _clip_window(artists, buffer.shape)
        buffer[rows, cols] = self.before[key][rows, cols]
        hidden = [(a, a.get_visible()) for a in artists]
        for a, _ in hidden:
            a.set_visible(False)
        try:
            with _unpainted(unpainted):
                for step in later:
                    step.draw(renderer)
        finally:
            for a, visible in hidden:
                a.set_visible(visible)
        return np.asarray(self.fig.canvas.buffer_rgba())

    def _later(self, first: int) -> list[Artist]:
        """The steps painted after step ``first``, in the drawing's order."""
        if self.redrawn:  # not met here (:meth:`covers`), but then by their last places
            return sorted(
                (a for a in self.steps if self.order.get(id(a), first) > first),
                key=lambda a: self.order[id(a)],
            )
        return self.sequence[first + 1 :]


class _EntryCheck:
    """Whether hiding a legend entry's artists changes the image, for one drawn figure.

    Text is most of the cost of a drawing (tick labels, titles, source line), and a
    legend entry's artists (lines, bands, bars) are clipped to their Axes. A text whose
    extent lies outside every such clip box cannot touch a pixel the artists can touch,
    so it is left out of *both* drawings compared: the entry's artists shown and hidden,
    the others and the texts near them as drawn. The count of changed pixels is the
    same as between full drawings. A text with a box (the "Exempeldata" label) is left
    out the same way when its box, padded by the box's line width, lies away from the
    clip boxes too (:func:`_text_reach`). Texts with path effects (which reach beyond
    their extent), annotations (arrows) and artists that are not clipped to a box are
    never left out: those entries are compared on full drawings. A legend (most of what
    is left of a drawing once the far texts are out: its texts, handles and the layout
    of its boxes) is left out the same way when every frame, handle and text in it lies
    away from the clip boxes (:func:`_legend_reach`). The drawing with those left out
    and the entry hidden is compared with the full drawing inside the entry's clip boxes
    (see :meth:`changes_pixels`), one 32-bit word per pixel.
    """

    def __init__(
        self,
        fig: Figure,
        full: np.ndarray | None,
        artists: list[Artist] | None = None,
        entries: list[list[Artist]] = (),
        kept: _Layers | None = None,
        extents: _TextExtents | None = None,
    ) -> None:
        self.fig = fig
        self.full = full
        #: the images kept in the drawing of ``full`` (:func:`layers_kept`)
        self.kept = kept
        #: the artists of every entry to be checked (for :class:`_Layers`)
        self.entries = list(entries)
        self.layers: _Layers | None | bool = None
        self.far: dict[tuple[int, ...], list[Artist]] = {}
        #: sets of far texts whose leaving out moved a text that stays (full drawings)
        self.moving: set[frozenset[int]] = set()
        self.texts: list[tuple[Text, object, tuple[float, float]]] = []
        #: legends and the extent they can paint (frame, handles, texts, line widths)
        self.legends: list[tuple[Legend, list[Bbox]]] = []
        self.layout = _KeptLayout(fig) if SKIP_FAR_ARTISTS and full is not None else None
        if SKIP_FAR_ARTISTS and full is not None:
            renderer = fig.canvas.get_renderer()
            everything = figure_artists(fig) if artists is None else artists
            for text in (a for a in everything if type(a) is Text):
                if text.get_visible() and text.get_text() and not text.get_path_effects():
                    box = _text_reach(text, renderer, extents)
                    if box is not None:
                        self.texts.append((text, box, text.get_position()))
            for legend in (a for a in everything if isinstance(a, Legend)):
                reach = _legend_reach(legend, renderer, extents)
                if reach is not None:
                    self.legends.append((legend, reach))

    def _far_texts(self, artists: list[Artist]) -> list[Artist]:
        """Texts and legends that cannot touch a pixel of ``artists`` (empty when an
        artist is not clipped to a box)."""
        key = tuple(id(a) for a in artists)
        if key not in self.far:
            self.far[key] = self._far_from(artists)
        return self.far[key]

    def _far_from(self, artists: list[Artist]) -> list[Artist]:
        boxes = []
        for a in artists:
            clip = a.get_clip_box() if a.get_clip_on() else None
            if clip is None:
                return []
            boxes.append(clip.padded(_PAD_PX))
        far: list[Artist] = [
            t
            for t, box, _ in self.texts
            if t not in artists and not any(box.overlaps(b) for b in boxes)
        ]
        far += [
            legend
            for legend, reach in self.legends
            if legend not in artists and not any(r.overlaps(b) for r in reach for b in boxes)
        ]
        return far

    def _kept_layout(self, artists: list[Artist]) -> contextlib.AbstractContextManager[None]:
        """The full drawing's layout kept (:class:`_KeptLayout`) when only lines, bands
        and bars are hidden; matplotlib's placing otherwise."""
        plain = all(isinstance(a, _PLAIN) and not isinstance(a, Spine) for a in artists)
        if self.layout is None or not plain:
            return contextlib.nullcontext()
        return self.layout.kept()

    def _plain(self, artists: list[Artist]) -> bool:
        """Whether the drawings of ``artists`` keep the layout (:meth:`_kept_layout`)."""
        return self.layout is not None and all(
            isinstance(a, _PLAIN) and not isinstance(a, Spine) for a in artists
        )

    def _layers(self) -> _Layers | None:
        """The images before each entry (:class:`_Layers`), drawn at the first need: for
        the entries whose drawings keep the layout and leave texts out, with the texts
        far from all of them left out (a text far from an entry paints nothing inside
        its clip boxes, where its drawings are compared). None when the figure is not
        drawn step by step (:func:`_replayable`) or a text moved in that drawing."""
        if self.layers is None:
            self.layers = False
            entries = [a for a in self.entries if self._plain(a) and self._far_texts(a)]
            if REPLAY_LAYERS and entries and self.kept is not None and self.kept.covers(entries):
                # kept in the full drawing itself: there the texts far from all of them
                # were painted too, but they paint nothing inside the entries' clip
                # boxes, where the drawings are compared; and no text moved
                self.layers = self.kept
            elif REPLAY_LAYERS and entries and _replayable(self.fig):
                common = set.intersection(*({id(t) for t in self._far_texts(a)} for a in entries))
                unpainted = [t for t in self._far_texts(entries[0]) if id(t) in common]
                with self.layout.kept():
                    layers = _Layers(self.fig, entries, unpainted)
                if not self._moved([]):
                    self.layers = layers
        return self.layers or None

    def _without(self, artists: list[Artist], far: list[Artist]) -> np.ndarray | None:
        """The drawing with ``artists`` hidden and ``far`` not painted: replayed from the
        image before them when it can be (:meth:`_Layers.replay`), drawn whole otherwise."""
        layers = self._layers() if self._plain(artists) else None
        if layers is not None:
            with self.layout.kept():
                without = layers.replay(artists, far)
            if without is not None:
                return without
        with self._kept_layout(artists):
            return _pixels(self.fig, artists, unpainted=far, copy=False)

    def _moved(self, far: list[Artist]) -> bool:
        """Whether a text that stays drawn sits elsewhere than in the full drawing."""
        left_out = {id(t) for t in far}
        return any(
            t.get_position() != position for t, _, position in self.texts if id(t) not in left_out
        )

    def changes_pixels(self, artists: list[Artist]) -> bool:
        """Whether hiding ``artists`` changes the rendered image (i.e. a reader sees them).

        With texts left out, one drawing: the entry's artists hidden, the far texts not
        painted. It is compared with the full drawing inside the entry's clip boxes only
        (:func:`_clip_region`): there the far texts paint nothing, so the full drawing
        is what the far texts left out would give; outside them hiding the entry
        changes nothing, since its artists are clipped to the boxes. The count is the
        one between the two drawings with the far texts left out, without drawing the
        second of them.
        """
        if self.full is None or not artists:
            return True
        far = self._far_texts(artists)
        if far:
            key = frozenset(id(t) for t in far)
            if key not in self.moving:
                without = self._without(artists, far)
                # a text placed after others (axis label below tick labels) that moved
                # when they were left out (never seen: they are measured, not painted):
                # compare full drawings instead
                if not self._moved(far):
                    if without is None or without.shape != self.full.shape:
                        return True
                    window = _clip_window(artists, without.shape)
                    region = _clip_region(artists, without.shape, window)
                    changed = _changed_pixels(without, self.full, region, window)
                    return changed > MIN_VISIBLE_PIXELS
                self.moving.add(key)
        without = _pixels(self.fig, artists, copy=False)
        if without is None or without.shape != self.full.shape:
            return True
        return _changed_pixels(without, self.full) > MIN_VISIBLE_PIXELS

    def restore(self) -> None:
        """Put the full drawing back: its pixels and every text where the drawing put it."""
        if self.full is None:
            return
        for text, _, position in self.texts:
            text.set_position(position)
        np.asarray(self.fig.canvas.buffer_rgba())[...] = self.full


def _entries_found(fig: Figure) -> list[tuple[str, int, list[Artist]]]:
    """Every legend entry of ``fig``: its label, how many artists carry the label, and
    the artists of those that are shown (:func:`artist_is_shown`)."""
    # a legend may gather entries from several panels (small multiples)
    candidates: list[Artist | Container] = [
        c for ax in fig.get_axes() for c in (*ax.get_children(), *ax.containers)
    ]
    found: list[tuple[str, int, list[Artist]]] = []
    for ax in fig.get_axes():
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        for text in legend.get_texts():
            label = text.get_text()
            same = [a for a in candidates if a.get_label() == label]
            drawn = [m for a in same if artist_is_shown(a) for m in _members(a)]
            found.append((label, len(same), drawn))
    return found


@contextlib.contextmanager
def layers_kept(fig: Figure) -> Iterator[_Layers | None]:
    """While the block draws ``fig`` on its Agg canvas once (its PNG), keep the image
    just before each legend entry's first artist (:class:`_Layers`): given as ``kept``
    to the :func:`figure_facts` that measures that drawing (``drawn=True``).

    The legend check then replays each entry from those images instead of drawing the
    figure once more up to them. That drawing leaves out the texts far from every
    entry; this one paints them, but only where the check never compares (outside the
    entries' clip boxes), and it places every text where the full drawing does, being
    the full drawing. An entry whose image was not kept (its artists are found shown
    only later) is checked as before. ``tests/test_granska.py`` compares the facts.
    """
    entries = [drawn for _, _, drawn in _entries_found(fig) if drawn]
    if not (REPLAY_LAYERS and SKIP_FAR_ARTISTS and entries and _replayable(fig)):
        yield None
        return
    layers = _Layers(fig, entries, [], drawing=False)
    with layers.keeping():
        yield layers


def _legend_entries(
    fig: Figure,
    artists: list[Artist] | None = None,
    kept: _Layers | None = None,
    extents: _TextExtents | None = None,
) -> list[dict[str, object]]:
    """Legend entries of a figure that ``fig.canvas`` has just drawn (see :func:`figure_facts`).

    Each entry whose artists are drawn costs one drawing with them hidden (see
    :class:`_EntryCheck`); the canvas gets the full drawing back at the end (copied, not
    drawn again).
    """
    found = _entries_found(fig)
    checked = [drawn for _, _, drawn in found if drawn]
    check = (
        _EntryCheck(fig, _drawn_pixels(fig), artists, checked, kept, extents) if checked else None
    )
    # one answer per set of artists: a label in two legends has the same artists
    answers: dict[tuple[int, ...], bool] = {}
    out: list[dict[str, object]] = []
    for label, count, drawn in found:
        key = tuple(id(a) for a in drawn)
        if drawn and key not in answers:
            answers[key] = check.changes_pixels(drawn)
        seen = answers.get(key, False) if drawn else False
        out.append({"label": label, "artists": count, "shown": bool(drawn), "seen": seen})
    if check is not None:
        check.restore()
    return out


def _gids(fig: Figure, artists: list[Artist] | None = None) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    everything = figure_artists(fig) if artists is None else artists
    for artist in (a for a in everything if a.get_gid() is not None):
        gid = str(artist.get_gid())
        entry = found.setdefault(gid, {"artists": 0, "shown": 0})
        entry["artists"] += 1
        entry["shown"] += int(artist_is_shown(artist))
    for ax in fig.get_axes():
        for container in ax.containers:
            gid = getattr(container, "_trygghet_gid", None)
            if gid:
                entry = found.setdefault(gid, {"artists": 0, "shown": 0})
                entry["artists"] += 1
                entry["shown"] += int(artist_is_shown(container))
    return dict(sorted(found.items()))


def figure_facts(
    fig: Figure, *, drawn: bool = False, kept: _Layers | None = None, **texts: object
) -> dict[str, object]:
    """Measure a finished figure for the report checker.

    Parameters
    ----------
    fig
        The figure exactly as saved (drawn at its saving dpi).
    drawn
        True when ``fig.canvas`` (Agg) has just drawn the figure as it is now, at
        ``fig.dpi``, e.g. by saving it as PNG (:func:`~trygghet_analys.files.export.figure_png_bytes`):
        that drawing is measured instead of a new one.
    kept
        What :func:`layers_kept` kept while that drawing was made (only with ``drawn``).
    **texts
        What the report shows with it, stored as is: ``name``, ``title``,
        ``explanation`` (the caption), ``alt`` (alt text), ``kind``, ``indicator``,
        ``group_var``, ``year``, ``data_rows`` …

    Returns
    -------
    dict
        ``figure`` (width and height in pixels), ``texts`` (role, text, x0, y0, x1, y1
        in pixels from the lower left corner, ``inside``), ``legend`` (label,
        ``shown``: an artist with the label draws data in view, ``seen``: hiding those
        artists changes the rendered image), ``gids`` (gid → number of artists and of those drawn visibly), and
        the ``texts`` passed in.
    """
    if not (drawn and isinstance(fig.canvas, FigureCanvasAgg)):
        fig.canvas.draw()
        kept = None
    renderer = fig.canvas.get_renderer()
    # every text measured once (:class:`_TextExtents`)
    extent = _TextExtents(renderer)
    # every artist of the figure, gathered once (the walk asks each axis for its ticks)
    everything = figure_artists(fig)
    width, height = fig.bbox.width, fig.bbox.height
    measured = []
    for role, text in _texts(fig):
        content = text.get_text()
        if not text.get_visible() or not content.strip():
            continue
        box = extent(text)
        inside = (
            box.x0 >= -TOLERANCE_PX
            and box.y0 >= -TOLERANCE_PX
            and box.x1 <= width + TOLERANCE_PX
            and box.y1 <= height + TOLERANCE_PX
        )
        measured.append(
            {
                "role": role,
                "text": content,
                "gid": text.get_gid(),
                "x0": _round(box.x0),
                "y0": _round(box.y0),
                "x1": _round(box.x1),
                "y1": _round(box.y1),
                "inside": bool(inside),
            }
        )
    overlaps = []
    for ax in fig.get_axes():
        if not ax.get_visible() or not ax.axison:
            continue
        written = [t for t in _tick_labels(ax) if t.get_text().strip()]
        for axis in ("x", "y"):
            # the axis's labels asked for once, not once per label (each asking runs
            # the tick locator)
            own = {id(t) for t in getattr(ax, f"get_{axis}ticklabels")()}
            labels = [t for t in written if id(t) in own]
            boxes = sorted(
                ((extent(t), t.get_text()) for t in labels),
                key=lambda b: (b[0].x0, b[0].y0),
            )
            for (a, ta), (b, tb) in zip(boxes, boxes[1:], strict=False):
                if a.overlaps(b) and (
                    min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE_PX
                    and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE_PX
                ):
                    overlaps.append({"axis": axis, "texts": [ta, tb]})
    return {
        **texts,
        "figure": {"width": _round(width), "height": _round(height), "dpi": _round(fig.dpi)},
        "overlaps": overlaps,
        "texts": measured,
        "legend": _legend_entries(fig, everything, kept, extent),
        "gids": _gids(fig, everything),
    }


def facts_json(facts: dict[str, object]) -> str:
    """The facts as stable JSON text (sorted keys, UTF-8, one trailing newline)."""
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=1, default=str) + "\n"
