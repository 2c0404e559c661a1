"""Figure rules: every figure a notebook shows can be read, by every reader.

Checked on each figure as it is drawn, inside the notebook's kernel, during a refresh
(tools/refresh.py) and under strict nbval (tests/conftest.py): both start kernels with
kernel_environment(), which makes tools/figure_backend.py matplotlib's backend there. A
learner's JupyterLab, Binder or Colab never sees any of this.

* No two texts overlap (titles, labels, tick labels, annotations: every text drawn).
* No text is smaller than MIN_TEXT_PX at the size the figure is shown. JupyterLab and the
  site scale a figure down to the width of their content column; the narrowest at desktop
  width is the site's, SHOWN_WIDTH px at a 1280 px window (measured in Chromium;
  tests/test_site.py fails if it gets narrower). JupyterLab's at 1280 px is 848 px.
* Every colour map stays readable under protanopia, deuteranopia and tritanopia, as
  colorspacious simulates them (Machado et al. 2009, severity 100) in CAM02-UCS: its
  lightness runs one way (sequential), or one way out from a centre to each end (diverging:
  then the two sides must stay apart, and the centre must be the data's zero).
* The colours that tell lines, markers or bars apart in one plot stay apart for every reader.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tools import nbio

if TYPE_CHECKING:
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

BACKEND = "module://tools.figure_backend"
SHOWN_WIDTH = 688  # px: the site's content column in a 1280 px window
MIN_TEXT_PX = 8.0  # font size, in CSS px, at the shown size
OVERLAP_PX = 1.0  # texts whose boxes share more than this in both directions overlap
VISIONS = {  # reader: colorspacious's name of the simulated deficiency (None: typical vision)
    "typical colour vision": None,
    "protanopia": "protanomaly",
    "deuteranopia": "deuteranomaly",
    "tritanopia": "tritanomaly",
}
SAMPLES = 65  # colours sampled along a colour map
MIN_LIGHTNESS_RANGE = 40.0  # J' (0-100) from one end of a sequential map to the other
MIN_SIDE_RANGE = 30.0  # J' from the centre of a diverging map to each end
MIN_SIDES_APART = 20.0  # ΔE' between the two sides of a diverging map, half-way out or more
MIN_PALETTE_DISTANCE = 10.0  # ΔE' between any two colours that tell data apart
STEP_TOLERANCE = 0.6  # J' a sampled step may go the wrong way (sampling noise)


def kernel_environment() -> dict[str, str]:
    """What a kernel's environment needs for the figure rules to check its figures."""
    path = os.environ.get("PYTHONPATH")
    return {
        "MPLBACKEND": BACKEND,
        "PYTHONPATH": str(nbio.REPO) + (os.pathsep + path if path else ""),
    }


@dataclass(frozen=True)
class DrawnText:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the PNG's pixels
    size_px: float  # font size in the PNG's pixels


def drawn_texts(fig: Figure) -> tuple[list[DrawnText], float]:
    """Every text the figure draws, and the width in px of its PNG as the inline backend saves
    it (bbox_inches="tight"): what a notebook shows before any scaling."""
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import RendererAgg

    found: dict[int, DrawnText] = {}

    class Recorder(RendererAgg):
        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if mtext is None or id(mtext) in found or not s.strip():
                return
            # drawn, a text has its wrapped form: its extent now is what the reader sees
            box = mtext.get_window_extent(self)
            size = prop.get_size_in_points() * self.dpi / 72
            found[id(mtext)] = DrawnText(mtext.get_text(), tuple(box.extents), size)

    width, height = fig.bbox.size
    renderer = Recorder(int(width), int(height), fig.dpi)
    fig.draw(renderer)
    tight = fig.get_tightbbox(renderer)
    pad = rcParams["savefig.pad_inches"]
    return list(found.values()), (tight.width + 2 * pad) * fig.dpi


def overlapping(texts: list[DrawnText]) -> list[tuple[DrawnText, DrawnText]]:
    pairs = []
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            across = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            up = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            if across > OVERLAP_PX and up > OVERLAP_PX:
                pairs.append((a, b))
    return pairs


def seen(rgb: np.ndarray, vision: str) -> np.ndarray:
    """Colours (sRGB, 0-1) as a reader with `vision` sees them, in CAM02-UCS (J', a', b')."""
    from colorspacious import cspace_convert

    if VISIONS[vision] is not None:
        space = {"name": "sRGB1+CVD", "cvd_type": VISIONS[vision], "severity": 100}
        rgb = np.clip(cspace_convert(rgb, space, "sRGB1"), 0, 1)
    return cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def _one_way(steps: np.ndarray) -> bool:
    return bool(np.all(steps > -STEP_TOLERANCE) or np.all(steps < STEP_TOLERANCE))


def colour_map_fault(colours: np.ndarray, centred: bool) -> str | None:
    """Why a colour map (its sampled sRGB colours, in order) cannot be read, or None.

    `centred`: the data's zero (or a chosen centre) sits in the middle of the map.
    """
    for vision in VISIONS:
        ucs = seen(colours, vision)
        lightness = ucs[:, 0]
        if _one_way(np.diff(lightness)):
            if abs(lightness[-1] - lightness[0]) < MIN_LIGHTNESS_RANGE:
                return f"its lightness changes too little for {vision}"
            continue
        middle = len(lightness) // 2
        low, high = lightness[: middle + 1], lightness[middle:]
        if not (_one_way(np.diff(low)) and _one_way(np.diff(high))):
            return f"its lightness goes up and down for {vision}, so order cannot be read"
        if min(abs(low[-1] - low[0]), abs(high[-1] - high[0])) < MIN_SIDE_RANGE:
            return f"its two sides change too little in lightness for {vision}"
        outward = range(middle // 2, middle + 1)  # half-way out or further, on both sides
        apart = [np.linalg.norm(ucs[middle - k] - ucs[middle + k]) for k in outward]
        if min(apart) < MIN_SIDES_APART:
            return f"its two sides look alike for {vision}"
        if not centred:
            return "it is diverging, but its middle is not the data's zero: set vmin=-vmax"
    return None


@functools.lru_cache(maxsize=64)
def _cached_fault(colours: bytes, centred: bool) -> str | None:
    return colour_map_fault(np.frombuffer(colours).reshape(-1, 3), centred)


def _centred(norm: Normalize) -> bool:
    from matplotlib.colors import CenteredNorm, TwoSlopeNorm

    if isinstance(norm, TwoSlopeNorm | CenteredNorm):
        return True
    low, high = norm.vmin, norm.vmax
    return low is not None and high is not None and abs(low + high) <= 1e-9 * max(-low, high, 1)


def colour_maps(fig: Figure) -> dict[str, tuple[Colormap, bool]]:
    """Each colour map the figure uses for data, by name, with whether its norm is centred."""
    from matplotlib.cm import ScalarMappable

    found: dict[str, tuple[Colormap, bool]] = {}
    for artist in fig.findobj(lambda a: isinstance(a, ScalarMappable)):
        data = artist.get_array()
        if data is None or np.ndim(data) > 2:  # RGB(A) images carry their own colours
            continue
        cmap = artist.get_cmap()
        centred = _centred(artist.norm) and found.get(cmap.name, (cmap, True))[1]
        found[cmap.name] = (cmap, centred)
    return found


def palettes(fig: Figure) -> list[list[tuple[float, float, float]]]:
    """Per plot, the distinct colours that tell its lines, markers and bars apart."""
    from matplotlib.colors import to_rgb

    found = []
    for ax in fig.axes:
        colours = [
            line.get_color()
            for line in ax.get_lines()
            if line.get_visible() and len(line.get_xdata()) > 0
        ]
        colours += [
            points.get_facecolor()[0]
            for points in ax.collections
            if points.get_array() is None and len(points.get_facecolor())
        ]
        colours += [bars.patches[0].get_facecolor() for bars in ax.containers if bars.patches]
        distinct = list(dict.fromkeys(tuple(round(v, 3) for v in to_rgb(c)) for c in colours))
        if len(distinct) > 1:
            found.append(distinct)
    return found


def palette_fault(colours: list[tuple[float, float, float]]) -> str | None:
    rgb = np.array(colours)
    for vision in VISIONS:
        ucs = seen(rgb, vision)
        for i in range(len(rgb)):
            for j in range(i + 1, len(rgb)):
                if np.linalg.norm(ucs[i] - ucs[j]) < MIN_PALETTE_DISTANCE:
                    return f"colours {_hex(rgb[i])} and {_hex(rgb[j])} look alike for {vision}"
    return None


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(v * 255):02x}" for v in rgb)


def problems(fig: Figure) -> list[str]:
    """Every way the figure breaks the rules, one line each; empty when it is readable."""
    texts, png_width = drawn_texts(fig)
    scale = min(1.0, SHOWN_WIDTH / png_width)
    found = [f"texts overlap: {a.text!r} and {b.text!r}" for a, b in overlapping(texts)]
    found += [
        f"text {t.text!r} is {t.size_px * scale:.1f} px as shown (the figure is {png_width:.0f} px "
        f"wide, shown at {min(png_width, SHOWN_WIDTH):.0f}); {MIN_TEXT_PX:g} px at least"
        for t in texts
        if t.size_px * scale < MIN_TEXT_PX - 1e-6
    ]
    for name, (cmap, centred) in colour_maps(fig).items():
        colours = np.ascontiguousarray(cmap(np.linspace(0, 1, SAMPLES))[:, :3], dtype=float)
        if fault := _cached_fault(colours.tobytes(), centred):
            found.append(f"colour map {name!r}: {fault}")
    found += [f"line colours: {fault}" for p in palettes(fig) if (fault := palette_fault(p))]
    return found
