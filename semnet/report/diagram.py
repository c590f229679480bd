"""Path diagrams of the structural part of a model, as standalone SVG (no system
binaries).

Latent variables are drawn as ellipses in columns by their depth in the structural
part (exogenous variables on the left), regressions as arrows labelled with their
estimates (significant ones marked ``*``), and covariances among exogenous variables as
dashed arcs on the left.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from semnet.report.format import html_escape

_W, _H = 120, 44  # ellipse size
_COL, _ROW = 230, 95  # spacing
_LEFT = 170  # room for the covariance arcs left of the first column


def path_diagram(
    estimates: pd.DataFrame,
    *,
    column: str = "std_all",
    title: str = "",
    labels: Mapping[str, str] | None = None,
) -> str:
    """SVG of the regressions (``~``) and exogenous covariances in ``estimates``.

    Parameters
    ----------
    estimates : DataFrame
        ``fit.estimates()`` (one group; filter multi-group tables first).
    column : str
        The column whose values label the arrows (``"std_all"`` or ``"est"``).
    labels : mapping, optional
        Display names of variables (e.g. ``{"ni": "Network involvement"}``).

    Returns
    -------
    str
        An SVG document.
    """
    labels = dict(labels or {})
    reg = estimates[estimates["op"] == "~"]
    nodes = list(dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"])))
    if not nodes:
        raise ValueError("the estimates have no regressions to draw.")
    depth = {v: 0 for v in nodes}
    for _ in range(len(nodes)):
        for y, x in zip(reg["lhs"], reg["rhs"], strict=True):
            depth[y] = max(depth[y], depth[x] + 1)
    columns: dict[int, list[str]] = {}
    for v in nodes:
        columns.setdefault(depth[v], []).append(v)
    tallest = max(len(c) for c in columns.values())
    pos = {}
    for d, vs in columns.items():
        offset = (tallest - len(vs)) * _ROW / 2
        for i, v in enumerate(vs):
            pos[v] = (_LEFT + _W / 2 + d * _COL, 70 + offset + i * _ROW)
    width = int(_LEFT + 60 + _W + max(columns) * _COL)
    height = int(100 + tallest * _ROW)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
    ]
    if title:
        parts.append(f'<text x="10" y="20" font-size="14">{html_escape(title)}</text>')
    cov = estimates[
        (estimates["op"] == "~~")
        & (estimates["lhs"] != estimates["rhs"])
        & estimates["lhs"].isin(columns.get(0, []))
        & estimates["rhs"].isin(columns.get(0, []))
    ]
    for a, b, val in zip(cov["lhs"], cov["rhs"], cov[column], strict=True):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        bend = 40 + 0.25 * abs(y2 - y1)
        xs = min(x1, x2) - _W / 2
        parts.append(
            f'<path d="M {xs:.1f} {y1:.1f} C {xs - bend:.1f} {y1:.1f} {xs - bend:.1f} '
            f'{y2:.1f} {xs:.1f} {y2:.1f}" fill="none" stroke="grey" stroke-dasharray="4 3" '
            'marker-start="url(#arrow)" marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{xs - bend * 0.75:.1f}" y="{(y1 + y2) / 2 + 4:.1f}" fill="grey" '
            f'text-anchor="middle">{_num(val)}</text>'
        )
    pv = reg["pvalue"] if "pvalue" in reg else pd.Series(np.nan, index=reg.index)
    for y, x, val, p in zip(reg["lhs"], reg["rhs"], reg[column], pv, strict=True):
        (x1, y1), (x2, y2) = pos[x], pos[y]
        dx, dy = x2 - x1, y2 - y1
        norm = max(np.hypot(dx, dy), 1e-9)
        sx, sy = x1 + dx / norm * _W / 2, y1 + dy / norm * _H / 2
        ex, ey = x2 - dx / norm * _W / 2, y2 - dy / norm * _H / 2
        star = "*" if isinstance(p, float) and p < 0.05 else ""
        parts.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="black" '
            'marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{(sx + ex) / 2:.1f}" y="{(sy + ey) / 2 - 5:.1f}" '
            f'text-anchor="middle">{_num(val)}{star}</text>'
        )
    for v, (x, y) in pos.items():
        parts.append(
            f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{_W / 2}" ry="{_H / 2}" fill="white" '
            'stroke="black"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">'
            f"{html_escape(labels.get(v, v))}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _num(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.2f}"
