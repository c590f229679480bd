"""Path diagrams of the structural part of a model, as standalone SVG or PNG (no system
binaries).

The layout is computed here: latent variables (ellipses) and observed variables
(rectangles) stand in layers by their depth in the structural part, exogenous on the
left; the order within a layer minimises edge crossings (barycenter sweeps) and a path
that skips layers bends through the layers between. Node sizes follow the width of
their (wrapped) names; arrows end on the node's outline; each estimate sits on its
arrow where no node, other label or other arrow is; correlations among the exogenous
variables are double-headed arcs on the left; a latent interaction (``doi ~ ni:et``) is
an arrow from the moderator onto the middle of the moderated path. Endogenous nodes
show their R². A multi-group table (or a mapping of tables) gives one panel per group,
all with the same node positions, under one legend.

:func:`path_diagram` returns the SVG text, :func:`diagram_layout` the geometry
(:class:`Diagram`), and :func:`save_diagram` writes either as ``.svg`` or, through
matplotlib (``pip install "semnet[plot]"``), as ``.png`` / ``.pdf``.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from semnet.errors import OptionError, SemnetError
from semnet.report.format import html_escape, stars, stars_note

__all__ = ["Diagram", "Item", "diagram_layout", "path_diagram", "save_diagram", "text_width"]

FONT = "Helvetica, Arial, 'Nimbus Sans', 'Liberation Sans', sans-serif"
NODE_SIZE, EDGE_SIZE, SMALL_SIZE, TITLE_SIZE = 13.0, 12.0, 11.0, 14.0
GREY = "#8c8c8c"
#: advance widths of Helvetica (per 1000 em) for printable ASCII, from space to tilde
_ADVANCE = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
#: advance widths of the other characters the diagrams use (no-break space, ², ×, →, −)
_OTHER = {"\u00a0": 278, "²": 333, "×": 584, "→": 1000, "\u2212": 584, "≥": 549}
#: room for wider fallback fonts (DejaVu Sans runs about 8% wider than Helvetica)
_SAFETY = 1.1
_ARROW_LEN, _ARROW_HALF = 9.0, 3.6
_LAYER_GAP, _NODE_GAP, _DUMMY_H = 88.0, 22.0, 26.0
_PAD = 12.0


def text_width(text: str, size: float) -> float:
    """Width of ``text`` at font ``size`` (Helvetica metrics with a margin for wider
    fonts; characters outside ASCII count as a digit).

    Examples
    --------
    >>> from semnet.report.diagram import text_width
    >>> round(text_width("Network", 10), 1)
    40.3
    """
    total = sum(_ADVANCE[ord(c) - 32] if 32 <= ord(c) < 127 else _OTHER.get(c, 556) for c in text)
    return size * total / 1000 * _SAFETY


@dataclass(frozen=True)
class Item:
    """One drawn element of a :class:`Diagram`.

    ``kind`` is ``"node"`` (``shape`` ``"ellipse"`` or ``"rect"``, centre ``x, y``,
    half-sizes ``rx, ry``), ``"edge"`` (``points``: the line; ``head``: arrowhead
    triangles; ``role``: ``"path"``, ``"cov"`` or ``"moderation"``), or ``"text"``
    (baseline ``x, y``, ``size``, ``anchor``; ``role``: ``"node"``, ``"label"``,
    ``"title"`` or ``"legend"``; a label has a white ``box`` behind it). ``owner`` names
    the node or edge an element belongs to (``"gm"``, ``"ni->doi"``, ``"gm<->rc"``).
    """

    kind: str
    owner: str = ""
    role: str = ""
    shape: str = ""
    x: float = 0.0
    y: float = 0.0
    rx: float = 0.0
    ry: float = 0.0
    points: tuple[tuple[float, float], ...] = ()
    head: tuple[tuple[tuple[float, float], ...], ...] = ()
    text: str = ""
    size: float = NODE_SIZE
    anchor: str = "middle"
    color: str = "black"
    dashed: bool = False
    italic: bool = False
    panel: str = ""

    def bbox(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of the element (a text's box from its estimated width)."""
        if self.kind == "node":
            return (self.x - self.rx, self.y - self.ry, self.x + self.rx, self.y + self.ry)
        if self.kind == "text":
            w = text_width(self.text, self.size)
            x0 = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
            return (x0, self.y - 0.78 * self.size, x0 + w, self.y + 0.24 * self.size)
        pts = np.array(self.points + tuple(p for h in self.head for p in h))
        return (*pts.min(axis=0), *pts.max(axis=0))

    def contains(self, pts: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Which of the points ``pts`` (n x 2) lie strictly inside this node, shrunk by
        ``margin``."""
        dx, dy = np.abs(pts[:, 0] - self.x), np.abs(pts[:, 1] - self.y)
        a, b = self.rx - margin, self.ry - margin
        if self.shape == "rect":
            return (dx < a) & (dy < b)
        return (dx / a) ** 2 + (dy / b) ** 2 < 1.0


@dataclass(frozen=True)
class Diagram:
    """The computed layout: canvas size, panel boxes and the drawn :class:`Item` s (in
    drawing order). ``to_svg()`` gives the SVG document."""

    width: float
    height: float
    items: tuple[Item, ...]
    panels: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)

    def to_svg(self) -> str:
        """The diagram as a standalone SVG document (text as ``<text>``)."""
        w, h = math.ceil(self.width), math.ceil(self.height)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{FONT}">',
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>',
        ]
        for name, (x0, y0, x1, y1) in self.panels.items():
            out.append(f'<g class="panel" data-group="{html_escape(name)}" '
                       f'data-box="{x0:.1f} {y0:.1f} {x1:.1f} {y1:.1f}"/>')  # fmt: skip
        out.extend(_svg_item(item) for item in self.items)
        out.append("</svg>")
        return "\n".join(out) + "\n"


def _svg_item(it: Item) -> str:
    cls = f'class="{it.kind} {it.role}" data-owner="{html_escape(it.owner)}"'
    if it.kind == "node":
        if it.shape == "rect":
            return (f'<rect {cls} x="{it.x - it.rx:.1f}" y="{it.y - it.ry:.1f}" '
                    f'width="{2 * it.rx:.1f}" height="{2 * it.ry:.1f}" fill="white" '
                    'stroke="black" stroke-width="1.2"/>')  # fmt: skip
        return (f'<ellipse {cls} cx="{it.x:.1f}" cy="{it.y:.1f}" rx="{it.rx:.1f}" '
                f'ry="{it.ry:.1f}" fill="white" stroke="black" stroke-width="1.2"/>')  # fmt: skip
    if it.kind == "edge":
        dash = ' stroke-dasharray="5 3"' if it.dashed else ""
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in it.points)
        parts = [f'<polyline {cls} points="{pts}" fill="none" stroke="{it.color}" '
                 f'stroke-width="1.1"{dash}/>']  # fmt: skip
        for tri in it.head:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in tri)
            parts.append(f'<polygon class="head" data-owner="{html_escape(it.owner)}" '
                         f'points="{pts}" fill="{it.color}"/>')  # fmt: skip
        return "\n".join(parts)
    style = ' font-style="italic"' if it.italic else ""
    weight = ' font-weight="bold"' if it.role == "title" else ""
    back = ""
    if it.role == "label":
        x0, y0, x1, y1 = it.bbox()
        back = (
            f'<rect class="backing" x="{x0 - 1:.1f}" y="{y0 - 1:.1f}" '
            f'width="{x1 - x0 + 2:.1f}" height="{y1 - y0 + 2:.1f}" fill="white"/>\n'
        )
    return (
        f'{back}<text {cls} x="{it.x:.1f}" y="{it.y:.1f}" font-size="{it.size:g}" '
        f'text-anchor="{it.anchor}" fill="{it.color}"{style}{weight}>'
        f"{html_escape(it.text)}</text>"
    )


# -- content: panels, paths, significance ------------------------------------------------------
@dataclass
class _Panel:
    title: str
    paths: dict[tuple[str, str], tuple[float, float]]  # (x, y) -> (value, p)
    covs: dict[tuple[str, str], tuple[float, float]]
    inter: dict[tuple[str, str, str], tuple[float, float]]  # (y, focal, moderator)
    r2: dict[str, float]
    latent: set[str]


def _number(v: float, drop_zero: bool) -> str:
    text = f"{v:.2f}"
    if drop_zero and abs(v) < 1:
        text = text.replace("0.", ".", 1)
    return text.replace("-", "\u2212")


def _panels(estimates, r2, column: str) -> list[_Panel]:
    if isinstance(estimates, Mapping):
        frames = {str(k): v for k, v in estimates.items()}
    else:
        groups = estimates["group"].dropna().unique() if "group" in estimates else []
        frames = ({str(g): estimates[estimates["group"] == g] for g in groups}
                  if len(groups) > 1 else {"": estimates})  # fmt: skip
    panels = []
    for title, est in frames.items():
        if column not in est:
            raise SemnetError(f"the estimates have no column {column!r}; pass column= one "
                              f"of {', '.join(map(str, est.columns))}.")  # fmt: skip
        p = est["pvalue"] if "pvalue" in est else pd.Series(np.nan, index=est.index)
        rows = zip(est["lhs"], est["op"], est["rhs"], est[column], p, strict=True)
        latent = set(est["lhs"][est["op"] == "=~"])
        panel = _Panel(title, {}, {}, {}, _r2_of(r2, title), latent)
        for lhs, op, rhs, val, pv in rows:
            cell = (float(val), float(pv) if pv is not None else np.nan)
            if op == "~" and ":" in rhs:
                focal, moderator = rhs.split(":", 1)
                panel.inter[(lhs, focal, moderator)] = cell
            elif op == "~":
                panel.paths[(rhs, lhs)] = cell
            elif op == "~~" and lhs != rhs and ":" not in lhs + rhs:
                panel.covs[(lhs, rhs)] = cell
        panels.append(panel)
    if not any(p.paths for p in panels):
        raise SemnetError(
            "the estimates have no regressions (op '~') to draw: a path diagram shows the "
            "structural part of a model; add the regressions among the factors (y ~ x)."
        )
    return panels


def _r2_of(r2, title: str) -> dict[str, float]:
    if r2 is None:
        return {}
    if isinstance(r2, pd.DataFrame):
        rows = r2
        if "group" in r2 and r2["group"].notna().any():
            rows = r2[r2["group"].astype(str) == title]
        return dict(zip(rows["name"], rows["r2"].astype(float), strict=True))
    first = next(iter(r2.values()), None)
    if isinstance(first, Mapping):
        return {k: float(v) for k, v in r2.get(title, {}).items()}
    return {k: float(v) for k, v in r2.items()}


# -- layered layout -----------------------------------------------------------------------------
def _depths(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    depth = dict.fromkeys(nodes, 0)
    for _ in nodes:
        for x, y in edges:
            depth[y] = max(depth[y], depth[x] + 1)
    return depth


def _crossings(layers: list[list[str]], links: list[tuple[str, str]]) -> int:
    where = {v: (k, i) for k, layer in enumerate(layers) for i, v in enumerate(layer)}
    count = 0
    for k in range(len(layers) - 1):
        pairs = [(where[a][1], where[b][1]) for a, b in links if where[a][0] == k]
        for i, (a1, b1) in enumerate(pairs):
            count += sum((a1 - a2) * (b1 - b2) < 0 for a2, b2 in pairs[i + 1 :])
    return count


def _order(layers: list[list[str]], links: list[tuple[str, str]]) -> list[list[str]]:
    """Barycenter sweeps, down and up, keeping the ordering with fewest crossings."""
    best, best_n = [list(x) for x in layers], _crossings(layers, links)
    cur = [list(x) for x in layers]
    for sweep in range(8):
        down = sweep % 2 == 0
        ks = range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)
        for k in ks:
            ref = {v: i for i, v in enumerate(cur[k - 1 if down else k + 1])}
            pos = {v: i for i, v in enumerate(cur[k])}

            def key(v, ref=ref, pos=pos, down=down):
                nb = [ref[a] for a, b in links if b == v and a in ref] if down else [
                    ref[b] for a, b in links if a == v and b in ref]  # fmt: skip
                return (sum(nb) / len(nb) if nb else pos[v], pos[v])

            cur[k] = sorted(cur[k], key=key)
        n = _crossings(cur, links)
        if n < best_n:
            best, best_n = [list(x) for x in cur], n
    return best


def _isotonic(values: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight]
    for v in values:
        blocks.append([float(v), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    return np.concatenate([np.full(int(w), m) for m, w in blocks])


def _place_layer(layer, heights, desired) -> np.ndarray:
    gaps = [(heights[a] + heights[b]) / 2 + _NODE_GAP for a, b in itertools.pairwise(layer)]
    c = np.concatenate([[0.0], np.cumsum(gaps)])
    return _isotonic(np.array([desired[v] for v in layer]) - c) + c


def _coordinates(layers, links, heights, widths, wider) -> dict[str, tuple[float, float]]:
    """Node centres: y by least squares towards the neighbours' mean under the spacing
    constraints, x by layer (``wider``: the layers whose gap to the left carries a
    moderation arrow's tip as well as a label, and is widened)."""
    y: dict[str, float] = {}
    for layer in layers:
        ys = _place_layer(layer, heights, dict.fromkeys(layer, 0.0))
        y.update(zip(layer, ys - ys.mean(), strict=True))
    nbrs: dict[str, list[str]] = {v: [] for layer in layers for v in layer}
    for a, b in links:
        nbrs[a].append(b)
        nbrs[b].append(a)
    for sweep in range(12):
        order = layers if sweep % 2 == 0 else layers[::-1]
        for layer in order:
            desired = {v: np.mean([y[u] for u in nbrs[v]]) if nbrs[v] else y[v] for v in layer}
            y.update(zip(layer, _place_layer(layer, heights, desired), strict=True))
    xs, x = [], 0.0
    for k, layer in enumerate(layers):
        w = max(widths[v] for v in layer)
        if k:
            before = max(widths[v] for v in layers[k - 1]) / 2
            x += before + _LAYER_GAP + (_LAYER_GAP * 0.6 if k in wider else 0.0) + w / 2
        else:
            x = w / 2
        xs.append(x)
    return {v: (xs[k], y[v]) for k, layer in enumerate(layers) for v in layer}


# -- geometry -------------------------------------------------------------------------------------
def _spline(points: list[tuple[float, float]], n: int = 24) -> np.ndarray:
    """A Catmull-Rom curve through ``points`` (a straight line for two points)."""
    p = np.array(points, dtype=float)
    if len(p) == 2:
        return np.linspace(p[0], p[1], n)
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, n)[:, None]
    out = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        seg = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                     + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)  # fmt: skip
        out.append(seg if i == 1 else seg[1:])
    return np.vstack(out)


def _boundary(a: np.ndarray, b: np.ndarray, node: Item) -> np.ndarray:
    """The point where segment a (inside ``node``) -> b (outside) crosses its outline."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        inside = node.contains((a + mid * (b - a))[None, :])[0]
        lo, hi = (mid, hi) if inside else (lo, mid)
    return a + hi * (b - a)


def _clip(curve: np.ndarray, start: Item | None, end: Item | None) -> np.ndarray:
    """``curve`` without the parts inside its start and end nodes."""
    if start is not None:
        i = int(np.argmin(start.contains(curve)))
        curve = np.vstack([_boundary(curve[i - 1], curve[i], start), curve[i:]])
    if end is not None:
        inside = end.contains(curve)
        j = int(np.argmax(inside))
        curve = np.vstack([curve[:j], _boundary(curve[j], curve[j - 1], end)])
    return curve


def _arrow(curve: np.ndarray) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """Shorten ``curve`` by an arrowhead and return the head's triangle (tip last)."""
    tip = curve[-1]
    dist = np.hypot(*(curve - tip).T)
    k = int(np.argmax(dist < _ARROW_LEN)) - 1
    k = max(k, 0)
    direction = tip - curve[k]
    direction = direction / max(np.hypot(*direction), 1e-9)
    base = tip - direction * _ARROW_LEN
    normal = np.array([-direction[1], direction[0]]) * _ARROW_HALF
    tri = tuple(tuple(map(float, p)) for p in (base + normal, base - normal, tip))
    return np.vstack([curve[: k + 1], base]), tri


def _at(curve: np.ndarray, frac: float) -> np.ndarray:
    seg = np.hypot(*np.diff(curve, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = frac * cum[-1]
    i = min(int(np.searchsorted(cum, s)), len(cum) - 1)
    if i == 0:
        return curve[0]
    t = (s - cum[i - 1]) / max(seg[i - 1], 1e-9)
    return curve[i - 1] + t * (curve[i] - curve[i - 1])


def _densify(points: np.ndarray, step: float = 2.0) -> np.ndarray:
    """The polyline with points about ``step`` apart: each segment a -> b split into n
    equal parts, a + (b - a) * k / n for k = 1..n (as ``np.linspace``: k * (1 / n), the
    last exactly 1), all segments at once."""
    a, d = points[:-1], np.diff(points, axis=0)
    n = np.maximum((np.hypot(d[:, 0], d[:, 1]) / step).astype(int), 1)
    seg = np.repeat(np.arange(len(n)), n)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n) + 1
    t = np.where(k == n[seg], 1.0, k * (1.0 / n[seg]))
    return np.vstack([points[:1], a[seg] + d[seg] * t[:, None]])


def _hits_box(points: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    p = _densify(points, 1.0)
    return bool(np.any((p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)))


def _box_meets_node(box, node: Item, margin: float = 2.0) -> bool:
    x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
    if node.shape == "rect":
        nx0, ny0, nx1, ny1 = node.bbox()
        return x0 < nx1 and nx0 < x1 and y0 < ny1 and ny0 < y1
    cx = min(max(node.x, x0), x1)
    cy = min(max(node.y, y0), y1)
    return ((cx - node.x) / node.rx) ** 2 + ((cy - node.y) / node.ry) ** 2 < 1.0


def _boxes_meet(a, b, margin: float = 2.0) -> bool:
    return (
        a[0] < b[2] + margin
        and b[0] < a[2] + margin
        and a[1] < b[3] + margin
        and (b[1] < a[3] + margin)
    )


# -- the shared geometry of all panels -----------------------------------------------------
@dataclass
class _Geometry:
    nodes: dict[str, Item]
    texts: list[Item]  # node names
    r2_at: dict[str, tuple[float, float]]  # baseline of the R² line of endogenous nodes
    curves: dict[str, tuple[np.ndarray, tuple]]  # owner -> (line, arrowheads)
    role: dict[str, str]


def _wrap(text: str, size: float, limit: float = 128.0) -> list[str]:
    words = text.split()
    if text_width(text, size) <= limit or len(words) < 2:
        return [text]
    splits = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    return list(min(splits, key=lambda s: max(text_width(s[0], size), text_width(s[1], size))))


def _node_items(names, labels, endogenous, latent) -> tuple[dict, dict, dict, dict]:
    lines = {v: _wrap(labels.get(v, v), NODE_SIZE) for v in names}
    widths, heights, sizes = {}, {}, {}
    for v in names:
        w = max(text_width(t, NODE_SIZE) for t in lines[v])
        if v in endogenous:
            w = max(w, text_width("R² = .00", SMALL_SIZE))
        h = NODE_SIZE * 1.2 * len(lines[v]) + (SMALL_SIZE * 1.25 if v in endogenous else 0)
        if v in latent:
            # the text box's corners on an ellipse 1.75 times its half-height high:
            # narrower than the sqrt(2) ellipse of least area, so layers stay compact
            rx, ry = w / 2 / math.sqrt(1 - 1 / 1.75**2) + 6, h / 2 * 1.75 + 3
        else:
            rx, ry = w / 2 + 9, h / 2 + 7
        sizes[v] = (rx, ry)
        widths[v], heights[v] = 2 * rx, 2 * ry
    return lines, widths, heights, sizes


def _geometry(panels: list[_Panel], labels: Mapping[str, str]) -> _Geometry:
    paths = list(dict.fromkeys(k for p in panels for k in p.paths))
    inters = list(dict.fromkeys(k for p in panels for k in p.inter))
    names = list(dict.fromkeys([v for e in paths for v in e]
                               + [v for y, f, m in inters for v in (f, m, y)]))  # fmt: skip
    edges = [*paths, *[(f, y) for y, f, _ in inters if (f, y) not in paths]]
    depth = _depths(names, edges)
    latent = set().union(*(p.latent for p in panels))
    endogenous = {y for _, y in edges}
    lines, widths, heights, sizes = _node_items(names, labels, endogenous, latent)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for v in names:
        layers[depth[v]].append(v)
    links, chains = [], {}
    for a, b in edges:
        chain = [a] + [f"{a}->{b}#{k}" for k in range(depth[a] + 1, depth[b])] + [b]
        for k, d in enumerate(chain[1:-1], start=depth[a] + 1):
            layers[k].append(d)
            widths[d], heights[d] = 0.0, _DUMMY_H
        links += list(itertools.pairwise(chain))
        chains[f"{a}->{b}"] = chain
    layers = _order(layers, links)
    wider = {depth[y] for y, f, _ in inters if depth[y] == depth[f] + 1}
    pos = _coordinates(layers, links, heights, widths, wider)
    nodes = {v: Item("node", v, "node", "ellipse" if v in latent else "rect", *pos[v],
                     *sizes[v]) for v in names}  # fmt: skip
    texts, r2_at = [], {}
    for v, node in nodes.items():
        n = len(lines[v]) + (v in endogenous)
        top = node.y - (n * NODE_SIZE * 1.2) / 2 + NODE_SIZE * 0.9
        for i, t in enumerate(lines[v]):
            texts.append(Item("text", v, "node", x=node.x, y=top + i * NODE_SIZE * 1.2, text=t))
        if v in endogenous:
            r2_at[v] = (node.x, top + len(lines[v]) * NODE_SIZE * 1.2 - 0.5)
    curves, role = {}, {}
    for owner, chain in chains.items():
        curve = _clip(_spline([pos[v] for v in chain]), nodes[chain[0]], nodes[chain[-1]])
        line, head = _arrow(curve)
        curves[owner], role[owner] = (line, (head,)), "path"
    exo = sorted(layers[0], key=lambda v: pos[v][1])
    covs = list(dict.fromkeys(k for p in panels for k in p.covs
                              if k[0] in exo and k[1] in exo))  # fmt: skip
    for a, b in covs:
        curves[f"{a}<->{b}"], role[f"{a}<->{b}"] = _arc(nodes, exo, a, b), "cov"
    for y, f, m in inters:
        target = curves[f"{f}->{y}"][0]
        curves[f"{f}:{m}->{y}"] = _moderation(nodes, m, target)
        role[f"{f}:{m}->{y}"] = "moderation"
    return _Geometry(nodes, texts, r2_at, curves, role)


def _arc(nodes: dict[str, Item], exo: list[str], a: str, b: str) -> tuple[np.ndarray, tuple]:
    """A double-headed arc left of the exogenous column, wider the more nodes it spans."""
    i, j = sorted((exo.index(a), exo.index(b)))
    upper, lower = nodes[exo[i]], nodes[exo[j]]
    left = min(nodes[v].x - nodes[v].rx for v in exo[i : j + 1])
    bulge = 30 + 52 * (j - i - 1)
    # wider arcs meet their nodes nearer the horizontal, so arrowheads never coincide
    angle = math.radians(max(36.0 - 18.0 * (j - i - 1), 6.0))
    p0 = np.array([upper.x - upper.rx * math.cos(angle), upper.y + upper.ry * math.sin(angle)])
    p3 = np.array([lower.x - lower.rx * math.cos(angle), lower.y - lower.ry * math.sin(angle)])
    ctrl_x = (left - bulge - (p0[0] + p3[0]) / 8) / 0.75
    p1, p2 = np.array([ctrl_x, p0[1]]), np.array([ctrl_x, p3[1]])
    t = np.linspace(0, 1, 80)[:, None]
    curve = (1 - t) ** 3 * p0 + 3 * t * (1 - t) ** 2 * p1 + 3 * t**2 * (1 - t) * p2 + t**3 * p3
    if upper.shape == "rect":
        curve = _clip(np.vstack([[upper.x, p0[1]], curve]), upper, None)
    if lower.shape == "rect":
        curve = _clip(np.vstack([curve, [lower.x, p3[1]]]), None, lower)
    line, head_b = _arrow(curve)
    line, head_a = _arrow(line[::-1])
    return line[::-1], (head_a, head_b)


def _moderation(nodes: dict[str, Item], m: str, target: np.ndarray) -> tuple[np.ndarray, tuple]:
    src = np.array([nodes[m].x, nodes[m].y])
    others = [n for v, n in nodes.items() if v != m]
    best = None
    for frac in (0.5, 0.42, 0.58, 0.35, 0.65):
        tip = _at(target, frac)
        normal = np.array([-(tip - src)[1], (tip - src)[0]]) / max(np.hypot(*(tip - src)), 1e-9)
        for bend in (0.0, 40.0, -40.0, 80.0, -80.0):
            ctrl = (src + tip) / 2 + bend * normal
            t = np.linspace(0, 1, 60)[:, None]
            curve = _clip((1 - t) ** 2 * src + 2 * t * (1 - t) * ctrl + t**2 * tip, nodes[m], None)
            dense = _densify(curve)
            bad = sum(int(n.contains(dense, -3.0).any()) for n in others)
            if best is None or bad < best[0]:
                best = (bad, curve)
            if bad == 0:
                break
        if best[0] == 0:
            break
    line, head = _arrow(best[1])
    return line, (head,)


# -- one panel's items: edges with their estimates, nodes, R² ----------------------------------
def _place_labels(geo: _Geometry, texts: dict[str, tuple[str, str]]) -> list[Item]:
    """A label on each edge, at the spot nearest its middle that meets no node, no
    other label and no other edge."""
    placed: list[Item] = []
    order = sorted(texts, key=lambda o: (geo.role[o] != "cov", _length(geo.curves[o][0])))
    for owner in order:
        text, color = texts[owner]
        line = geo.curves[owner][0]
        best = None
        for frac in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.12, 0.88):
            x, y = _at(line, frac)
            item = Item("text", owner, "label", x=float(x), y=float(y + EDGE_SIZE * 0.27),
                        text=text, size=EDGE_SIZE, color=color)  # fmt: skip
            box = item.bbox()
            bad = sum(_box_meets_node(box, n, 3.0) for n in geo.nodes.values())
            bad += sum(_boxes_meet(box, p.bbox(), 4.0) for p in placed)
            wide = (box[0] - 5, box[1] - 4, box[2] + 5, box[3] + 4)
            bad += sum(_hits_box(np.vstack([c, *h]), wide) for o, (c, h) in geo.curves.items()
                       if o != owner)  # fmt: skip
            bad += sum(_hits_box(np.array((*t, t[0])), wide) for t in geo.curves[owner][1])
            if best is None or bad < best[0]:
                best = (bad, item)
            if bad == 0:
                break
        placed.append(best[1])
    return placed


def _length(curve: np.ndarray) -> float:
    return float(np.hypot(*np.diff(curve, axis=0).T).sum())


def _panel_items(geo: _Geometry, panel: _Panel, std: bool, labels: Mapping) -> list[Item]:
    items, texts = [], {}
    names = {f"{f}:{m}->{y}": labels[f"{f}:{m}"] for y, f, m in panel.inter if f"{f}:{m}" in labels}
    cells = {**{f"{a}->{b}": c for (a, b), c in panel.paths.items()},
             **{f"{a}<->{b}": c for (a, b), c in panel.covs.items()},
             **{f"{f}:{m}->{y}": c for (y, f, m), c in panel.inter.items()}}  # fmt: skip
    for owner, (line, head) in geo.curves.items():
        if owner not in cells:
            if owner.replace("<->", "~~") in cells or _reverse(owner) in cells:
                cells[owner] = cells.get(_reverse(owner), (np.nan, np.nan))
            else:
                continue
        value, p = cells[owner]
        ns = np.isfinite(p) and p >= 0.05
        color = GREY if ns else "black"
        items.append(Item("edge", owner, geo.role[owner], points=_points(line),
                          head=head, color=color, dashed=bool(ns)))  # fmt: skip
        name = f"{names[owner]}: " if owner in names else ""
        texts[owner] = (name + _number(value, std) + stars(p), color)
    items.extend(geo.nodes.values())
    items.extend(geo.texts)
    for v, (x, y) in geo.r2_at.items():
        if v in panel.r2:
            r2 = _number(panel.r2[v], True)
            items.append(Item("text", v, "node", x=x, y=y, text=f"R² = {r2}",
                              size=SMALL_SIZE, italic=True))  # fmt: skip
    items.extend(_place_labels(geo, texts))
    return items


def _reverse(owner: str) -> str:
    a, _, b = owner.partition("<->")
    return f"{b}<->{a}"


def _points(line: np.ndarray) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in line)


def _moved(item: Item, dx: float, dy: float, panel: str) -> Item:
    from dataclasses import replace

    pts = tuple((x + dx, y + dy) for x, y in item.points)
    head = tuple(tuple((x + dx, y + dy) for x, y in tri) for tri in item.head)
    return replace(item, x=item.x + dx, y=item.y + dy, points=pts, head=head, panel=panel)


def _bounds(items: list[Item]) -> tuple[float, float, float, float]:
    boxes = np.array([it.bbox() for it in items])
    return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())


def _wrap_width(text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _legend(panels: list[_Panel], labels: Mapping[str, str], std: bool) -> str:
    kind = "Standardized" if std else "Unstandardized"
    parts = [f"Note. {kind} estimates; {stars_note(chr(0xA0))}; dashed grey lines: "
             "p\u00a0≥\u00a0.05."]  # fmt: skip
    if any(p.covs for p in panels):
        parts.append(
            "Curved double-headed arrows: correlations among the exogenous variables."
            if std
            else "Curved double-headed arrows: covariances."
        )
    if any(p.r2 for p in panels):
        parts.append("R²: variance explained.")
    for y, f, m in dict.fromkeys(k for p in panels for k in p.inter):
        name = labels.get(f"{f}:{m}", f"{labels.get(f, f)} × {labels.get(m, m)}")
        parts.append(
            f"The arrow from {labels.get(m, m)} onto the {labels.get(f, f)} → "
            f"{labels.get(y, y)} path is the interaction {name}."
        )
    return " ".join(parts)


def _checked_options(labels: object, title: object, ncols: object) -> dict[str, str]:
    """``labels`` as a dict, after checking the text options and ``ncols``."""
    if labels is not None and not (
        isinstance(labels, Mapping) and all(isinstance(v, str) for v in labels.values())
    ):
        raise OptionError(
            "labels must map variable names to display names, e.g. {'ni': 'Network "
            f"involvement'}}; got {labels!r}."
        )
    if not isinstance(title, str):
        raise OptionError(f"title must be a string, not {title!r}.")
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, int | np.integer)
                              or ncols < 1):  # fmt: skip
        raise OptionError(f"ncols must be a positive whole number of columns, not {ncols!r}.")
    return dict(labels or {})


def diagram_layout(
    estimates: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    column: str = "std_all",
    title: str = "",
    labels: Mapping[str, str] | None = None,
    r2: pd.DataFrame | Mapping | None = None,
    ncols: int | None = None,
    legend: bool = True,
) -> Diagram:
    """The layout of :func:`path_diagram` (same arguments) as a :class:`Diagram`.

    Examples
    --------
    >>> import pandas as pd
    >>> from semnet.report.diagram import diagram_layout
    >>> est = pd.DataFrame({"lhs": ["y"], "op": ["~"], "rhs": ["x"], "est": [0.5],
    ...                     "pvalue": [0.004]})
    >>> d = diagram_layout(est, column="est", legend=False)
    >>> [it.text for it in d.items if it.role == "label"]
    ['0.50**']
    """
    labels = _checked_options(labels, title, ncols)
    std = column.startswith("std")
    panels = _panels(estimates, r2, column)
    geo = _geometry(panels, labels)
    cells = [_panel_items(geo, p, std, labels) for p in panels]
    box = np.array([_bounds(c) for c in cells])
    x0, y0 = box[:, 0].min(), box[:, 1].min()
    cell_w, cell_h = box[:, 2].max() - x0, box[:, 3].max() - y0
    ncols = ncols or (len(panels) if len(panels) <= 3 else 2 if len(panels) == 4 else 3)
    across, rows, gap = min(ncols, len(panels)), -(-len(panels) // ncols), 36.0
    grid_w = across * cell_w + (across - 1) * gap
    note = _legend(panels, labels, std) if legend else ""
    width = max(grid_w, min(text_width(note, SMALL_SIZE), 520.0)) + 2 * _PAD
    left = _PAD + (width - 2 * _PAD - grid_w) / 2
    items: list[Item] = []
    for i, t in enumerate(_wrap_width(title, TITLE_SIZE, width - 2 * _PAD) if title else []):
        items.append(Item("text", "title", "title", x=_PAD, y=_PAD + TITLE_SIZE * (1 + 1.3 * i),
                          text=t, size=TITLE_SIZE, anchor="start"))  # fmt: skip
    top = _PAD + TITLE_SIZE * 1.3 * len(items) + (6 if items else 0)
    head = TITLE_SIZE * 1.6 if any(p.title for p in panels) else 0.0
    boxes = {}
    for k, (panel, cell) in enumerate(zip(panels, cells, strict=True)):
        r, c = divmod(k, ncols)
        px, py = left + c * (cell_w + gap), top + r * (cell_h + head + gap)
        if panel.title:
            items.append(Item("text", panel.title, "title", x=px + cell_w / 2,
                              y=py + TITLE_SIZE, text=panel.title, size=TITLE_SIZE))  # fmt: skip
        items.extend(_moved(it, px - x0, py + head - y0, panel.title) for it in cell)
        boxes[panel.title] = (px, py, px + cell_w, py + head + cell_h)
    y = top + rows * (cell_h + head) + (rows - 1) * gap + 6
    for t in _wrap_width(note, SMALL_SIZE, width - 2 * _PAD) if note else []:
        y += SMALL_SIZE * 1.35
        items.append(Item("text", "legend", "legend", x=_PAD, y=y, text=t,
                          size=SMALL_SIZE, anchor="start"))  # fmt: skip
    return Diagram(width, y + _PAD, tuple(items), boxes)


def path_diagram(
    estimates: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    column: str = "std_all",
    title: str = "",
    labels: Mapping[str, str] | None = None,
    r2: pd.DataFrame | Mapping | None = None,
    ncols: int | None = None,
    legend: bool = True,
) -> str:
    """SVG of the regressions (``~``), latent interactions (``y ~ x:z``) and exogenous
    covariances in ``estimates``.

    Parameters
    ----------
    estimates : DataFrame or mapping of DataFrames
        ``fit.estimates()``. A multi-group table gives one panel per group; a mapping
        ``{panel title: estimates}`` gives one panel per entry (e.g. the groups and the
        pooled sample).
    column : str
        The column whose values label the arrows (``"std_all"`` or ``"est"``).
    title : str
        Title above the panels.
    labels : mapping, optional
        Display names of variables (e.g. ``{"ni": "Network involvement"}``; an
        interaction's name as ``{"ni:et": "NI × ET"}``).
    r2 : DataFrame or mapping, optional
        R² shown in the endogenous nodes: ``fit.r_squared()`` (its ``group`` column
        matched to the panel titles), ``{name: r2}``, or ``{panel title: {name: r2}}``.
    ncols : int, optional
        Panels per row (default: all in one row up to three, 2 x 2 for four).
    legend : bool
        Add the note explaining stars, dashed lines, arcs, R² and interactions.

    Returns
    -------
    str
        An SVG document.

    Examples
    --------
    >>> import semnet
    >>> from semnet.report.diagram import path_diagram
    >>> fit = semnet.sem("y1 ~ x1 + x2", semnet.datasets.political_democracy())
    >>> path_diagram(fit.estimates(), r2=fit.r_squared()).startswith("<svg")
    True
    """
    return diagram_layout(estimates, column=column, title=title, labels=labels, r2=r2,
                          ncols=ncols, legend=legend).to_svg()  # fmt: skip


def save_diagram(diagram: Diagram | str, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a diagram (:class:`Diagram` or the SVG text of :func:`path_diagram`) to
    ``path``: ``.svg`` as is, other suffixes (``.png``, ``.pdf``) drawn with matplotlib
    from the same shapes, lines and texts (``pip install "semnet[plot]"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from semnet.report.diagram import path_diagram, save_diagram
    >>> est = pd.DataFrame({"lhs": ["y"], "op": ["~"], "rhs": ["x"], "est": [0.5]})
    >>> save_diagram(path_diagram(est, column="est"), "diagram.png")  # doctest: +SKIP
    """
    svg = diagram.to_svg() if isinstance(diagram, Diagram) else str(diagram)
    path = Path(path)
    if path.is_dir():
        raise SemnetError(f"{str(path)!r} is a folder; pass a file name such as "
                          f"{str(path / 'diagram.svg')!r}.")
    if not path.parent.is_dir():
        raise SemnetError(
            f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist; "
            "create it first, or pass another path."
        )
    if path.suffix.lower() == ".svg":
        path.write_text(svg, encoding="utf-8")
        return path
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise SemnetError(
            f'writing {path.name!r} needs matplotlib: pip install "semnet[plot]" (or save '
            "the diagram as .svg)."
        ) from exc
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    family = _mpl_family()
    for z, el in enumerate(root):
        _draw(ax, el, z, family)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


def _mpl_family() -> str:
    """The first installed font of the SVG's font list (matplotlib's own DejaVu Sans
    otherwise)."""
    from matplotlib import font_manager

    for name in ("Helvetica", "Arial", "Nimbus Sans", "Liberation Sans"):
        try:
            font_manager.findfont(font_manager.FontProperties(family=name),
                                  fallback_to_default=False)  # fmt: skip
        except ValueError:
            continue
        return name
    return "DejaVu Sans"


def _draw(ax, el: ET.Element, z: int, family: str) -> None:
    """Draw one element of the SVG subset :class:`Diagram` writes."""
    from matplotlib import patches

    tag = el.tag.rsplit("}", 1)[-1]
    get = el.get
    if tag == "rect":
        fill, stroke = get("fill", "none"), get("stroke", "none")
        ax.add_patch(patches.Rectangle((float(get("x")), float(get("y"))),
                                       float(get("width")), float(get("height")),
                                       facecolor=fill, edgecolor=stroke, zorder=z,
                                       linewidth=float(get("stroke-width", 0))))  # fmt: skip
    elif tag == "ellipse":
        ax.add_patch(patches.Ellipse((float(get("cx")), float(get("cy"))),
                                     2 * float(get("rx")), 2 * float(get("ry")),
                                     facecolor=get("fill"), edgecolor=get("stroke"),
                                     linewidth=float(get("stroke-width", 1)),
                                     zorder=z))  # fmt: skip
    elif tag in ("polyline", "polygon"):
        pts = np.array([p.split(",") for p in get("points").split()], dtype=float)
        if tag == "polygon":
            ax.add_patch(patches.Polygon(pts, closed=True, facecolor=get("fill"),
                                         edgecolor="none", zorder=z))  # fmt: skip
        else:
            dash = get("stroke-dasharray")
            style = (0, tuple(float(v) / 1.1 for v in dash.split())) if dash else "-"
            ax.plot(pts[:, 0], pts[:, 1], color=get("stroke"), linestyle=style, zorder=z,
                    linewidth=float(get("stroke-width", 1)), solid_capstyle="butt")  # fmt: skip
    elif tag == "text":
        ax.text(float(get("x")), float(get("y")), el.text or "", zorder=z,
                fontsize=float(get("font-size")), color=get("fill", "black"),
                ha={"start": "left", "middle": "center", "end": "right"}[get("text-anchor")],
                va="baseline", style="italic" if get("font-style") else "normal",
                weight=get("font-weight", "normal"),
                family=family)  # fmt: skip
