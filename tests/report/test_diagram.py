"""Path diagrams: the layout is checked geometrically (no text box on another box or on
a node other than its own, no edge through a node or a label, arrowheads on the
outlines, a canvas without wasted margins), and for its content (panels per group,
legend, R², interaction, significance styles)."""

from __future__ import annotations

import itertools
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from tolerances import DIAGRAM_BOUNDARY_RTOL, DIAGRAM_MAX_MARGIN, DIAGRAM_PX

import semnet
from semnet.errors import SemnetError
from semnet.report.diagram import Diagram, diagram_layout, path_diagram, save_diagram
from semnet.studies import network_involvement as study

LABELS = {**study.LABELS, "ni:et": "NI × ET"}


@pytest.fixture(scope="module")
def fits():
    frame, _ = study.load_data(None)
    models = study.model_files()
    by_country = semnet.sem(models["moderated"], frame, group="country",
                            interaction="double_mean", interaction_match=True,
                            group_equal=["loadings"], missing="fiml")  # fmt: skip
    pooled = semnet.sem(models["moderated"], frame, interaction="double_mean",
                        interaction_match=True, missing="fiml")  # fmt: skip
    mediation = semnet.sem(models["mediation"], frame, missing="fiml")
    return by_country, pooled, mediation


@pytest.fixture(scope="module")
def panels(fits) -> Diagram:
    by_country, pooled, _ = fits
    est, r2 = by_country.estimates(), by_country.r_squared()
    tables = {g: est[est["group"] == g] for g in by_country.groups}
    tables["Pooled"] = pooled.estimates()
    r2s = {g: dict(zip(r2["name"][r2["group"] == g], r2["r2"][r2["group"] == g],
                       strict=True)) for g in by_country.groups}  # fmt: skip
    r2s["Pooled"] = dict(zip(pooled.r_squared()["name"], pooled.r_squared()["r2"], strict=True))
    return diagram_layout(tables, labels=LABELS, r2=r2s, title="Figure 1. The model by country")


@pytest.fixture(scope="module")
def single(fits) -> Diagram:
    mediation = fits[2]
    return diagram_layout(mediation.estimates(), labels=LABELS, r2=mediation.r_squared())


def _kind(d: Diagram, kind: str, role: str | None = None):
    return [it for it in d.items if it.kind == kind and (role is None or it.role == role)]


def _edge_points(edge) -> np.ndarray:
    """The edge's line and arrowhead outlines, sampled every half pixel."""
    paths = [np.array(edge.points)] + [np.array((*t, t[0])) for t in edge.head]
    out = []
    for path in paths:
        for a, b in itertools.pairwise(path):
            n = max(int(np.hypot(*(b - a)) / 0.5), 1)
            out.append(a + (b - a) * np.linspace(0, 1, n + 1)[:, None])
    return np.vstack(out)


def _inside(node, pts: np.ndarray, shrink: float) -> np.ndarray:
    dx, dy = np.abs(pts[:, 0] - node.x), np.abs(pts[:, 1] - node.y)
    a, b = node.rx - shrink, node.ry - shrink
    if node.shape == "rect":
        return (dx < a) & (dy < b)
    return (dx / a) ** 2 + (dy / b) ** 2 < 1


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box_in_node(box, node) -> bool:
    corners = np.array([[box[0], box[1]], [box[0], box[3]], [box[2], box[1]], [box[2], box[3]]])
    return bool(_inside(node, corners, 0.0).all())


def _box_meets_node(box, node) -> bool:
    xs, ys = np.linspace(box[0], box[2], 40), np.linspace(box[1], box[3], 12)
    grid = np.array([(x, y) for x in xs for y in ys])
    return bool(_inside(node, grid, 0.0).any())


@pytest.fixture(scope="module")
def poldem() -> Diagram:
    model = """ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + y2 + y3 + y4
    dem65 =~ y5 + y6 + y7 + y8
    dem60 ~ ind60
    dem65 ~ ind60 + dem60"""
    fit = semnet.sem(model, semnet.datasets.political_democracy())
    return diagram_layout(fit.estimates(), r2=fit.r_squared(), title="Political democracy")


@pytest.fixture(scope="module")
def controls() -> Diagram:
    # observed exogenous variables (rectangles) beside latent ones, two groups
    frame, _ = study.load_data(None)
    frame = frame[frame["country"] != "Russia"]
    model = study.model_files()["structural"] + "\ndoi ~ firm_size + firm_age\n"
    fit = semnet.sem(model, frame, group="country", missing="fiml", fixed_x=False)
    return diagram_layout(fit.estimates(), r2=fit.r_squared(), labels=LABELS)


@pytest.fixture(params=["panels", "single", "poldem", "controls"])
def diagram(request) -> Diagram:
    return request.getfixturevalue(request.param)


def test_no_text_box_overlaps_another_or_a_foreign_node(diagram):
    texts = _kind(diagram, "text")
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(a.bbox(), b.bbox()), (a.text, b.text)
    for text in texts:
        for node in _kind(diagram, "node"):
            if node.panel != text.panel:
                continue
            if text.role == "node" and text.owner == node.owner:
                assert _box_in_node(text.bbox(), node), (text.text, "outside its node")
            else:
                assert not _box_meets_node(text.bbox(), node), (text.text, node.owner)


def test_no_edge_enters_a_node(diagram):
    # the own end nodes included: lines and arrowheads stop at the outline
    for edge in _kind(diagram, "edge"):
        pts = _edge_points(edge)
        for node in _kind(diagram, "node"):
            if node.panel == edge.panel:
                assert not _inside(node, pts, DIAGRAM_PX).any(), (edge.owner, node.owner)


def test_no_edge_crosses_a_label_or_node_text(diagram):
    for edge in _kind(diagram, "edge"):
        pts = _edge_points(edge)
        for text in _kind(diagram, "text"):
            if text.panel != edge.panel or (text.role == "label" and text.owner == edge.owner):
                continue
            x0, y0, x1, y1 = text.bbox()
            hit = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
            assert not hit.any(), (edge.owner, text.text)


def test_each_label_sits_on_its_own_edge(diagram):
    edges = {(e.panel, e.owner): e for e in _kind(diagram, "edge")}
    for label in _kind(diagram, "text", "label"):
        pts = _edge_points(edges[(label.panel, label.owner)])
        x0, y0, x1, y1 = label.bbox()
        assert ((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)).any()


def test_arrowheads_end_on_the_node_outlines(diagram):
    nodes = {(n.panel, n.owner): n for n in _kind(diagram, "node")}
    paths = {(e.panel, e.owner): e for e in _kind(diagram, "edge", "path")}
    checked = 0
    for edge in _kind(diagram, "edge"):
        if edge.role == "moderation":
            focal_moderator, _, y = edge.owner.partition("->")
            target = paths[(edge.panel, f"{focal_moderator.split(':')[0]}->{y}")]
            tip = np.array(edge.head[0][-1])
            dist = np.hypot(*(_edge_points(target) - tip).T).min()
            assert dist < DIAGRAM_PX * 2, edge.owner
            continue
        ends = edge.owner.split("<->") if edge.role == "cov" else [edge.owner.split("->")[1]]
        for tri, end in zip(edge.head, ends, strict=True):
            node, tip = nodes[(edge.panel, end)], np.array(tri[-1])
            if node.shape == "rect":
                edge_dist = min(abs(abs(tip[0] - node.x) - node.rx),
                                abs(abs(tip[1] - node.y) - node.ry))  # fmt: skip
                assert edge_dist < DIAGRAM_PX, edge.owner
            else:
                level = ((tip[0] - node.x) / node.rx) ** 2 + ((tip[1] - node.y) / node.ry) ** 2
                assert abs(level - 1) < DIAGRAM_BOUNDARY_RTOL, edge.owner
            checked += 1
    assert checked >= 3


def test_content_fills_the_canvas(diagram):
    boxes = np.array([it.bbox() for it in diagram.items])
    x0, y0 = boxes[:, :2].min(axis=0)
    x1, y1 = boxes[:, 2:].max(axis=0)
    assert x0 >= 0 and y0 >= 0 and x1 <= diagram.width and y1 <= diagram.height
    assert (diagram.width - (x1 - x0)) / diagram.width <= DIAGRAM_MAX_MARGIN
    assert (diagram.height - (y1 - y0)) / diagram.height <= DIAGRAM_MAX_MARGIN


def test_panels_per_group_share_node_positions(panels, fits):
    assert list(panels.panels) == ["USA", "China", "Russia", "Pooled"]
    svg = ET.fromstring(panels.to_svg())
    groups = [g.get("data-group") for g in svg.iter("{http://www.w3.org/2000/svg}g")]
    assert groups == ["USA", "China", "Russia", "Pooled"]
    titles = [t.text for t in _kind(panels, "text", "title")]
    assert {"USA", "China", "Russia", "Pooled"} <= set(titles)
    relative = {}
    for node in _kind(panels, "node"):
        x0, y0, _, _ = panels.panels[node.panel]
        relative.setdefault(node.owner, set()).add((round(node.x - x0, 3), round(node.y - y0, 3)))
    assert all(len(spots) == 1 for spots in relative.values())
    # a multi-group table gives one panel per group by itself
    by_country = fits[0]
    svg = by_country.plot(labels=LABELS)
    assert svg.count('class="panel"') == 3


def test_legend_r2_stars_and_significance_styles(panels, fits):
    legend = " ".join(t.text for t in _kind(panels, "text", "legend"))
    assert "*\u00a0p\u00a0<\u00a0.05" in legend and "***\u00a0p\u00a0<\u00a0.001" in legend
    assert "R²" in legend and "interaction NI × ET" in legend
    r2 = [t for t in _kind(panels, "text", "node") if t.text.startswith("R² = ")]
    assert len(r2) == 2 * 4  # NI and DOI in every panel
    est = fits[0].estimates()
    usa_ni_doi = est[(est["group"] == "USA") & (est["lhs"] == "doi") & (est["rhs"] == "ni")]
    value, p = usa_ni_doi["std_all"].iloc[0], usa_ni_doi["pvalue"].iloc[0]
    label = next(t for t in _kind(panels, "text", "label")
                 if t.panel == "USA" and t.owner == "ni->doi")  # fmt: skip
    stars = "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
    assert label.text == f"{value:.2f}".replace("0.", ".") + stars
    for edge in _kind(panels, "edge", "path"):
        row = est[(est["group"] == edge.panel) & (est["op"] == "~")
                  & (est["rhs"] + "->" + est["lhs"] == edge.owner)]  # fmt: skip
        if len(row):
            assert edge.dashed == (row["pvalue"].iloc[0] >= 0.05)


def test_interaction_is_a_moderation_arrow_with_its_estimate(panels):
    mods = _kind(panels, "edge", "moderation")
    assert len(mods) == 4 and {m.owner for m in mods} == {"ni:et->doi"}
    labels = [t.text for t in _kind(panels, "text", "label") if t.owner == "ni:et->doi"]
    assert len(labels) == 4 and all(t.startswith("NI × ET: ") for t in labels)
    # the moderator's arrow leaves the ET node
    for m in mods:
        et = next(n for n in _kind(panels, "node") if n.owner == "et" and n.panel == m.panel)
        start = np.array(m.points[0])
        level = ((start[0] - et.x) / et.rx) ** 2 + ((start[1] - et.y) / et.ry) ** 2
        assert abs(level - 1) < DIAGRAM_BOUNDARY_RTOL


def test_long_names_wrap_and_fit_their_nodes(single):
    lines = [t.text for t in _kind(single, "text", "node") if t.owner == "doi"]
    assert lines[:2] == ["Degree of", "internationalization"]


def test_backward_compatible_single_group_call_and_unstandardized_labels():
    est = pd.DataFrame({"lhs": ["m", "y", "y"], "op": ["~"] * 3, "rhs": ["x", "m", "x"],
                        "est": [0.5, -1.25, 0.1], "std_all": [0.4, -0.6, 0.05],
                        "pvalue": [0.0001, 0.02, 0.5]})  # fmt: skip
    svg = path_diagram(est, title="A chain", labels={"x": "Cause"})
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "A chain" in texts and "Cause" in texts
    assert {".40***", "\u2212.60*", ".05"} <= set(texts)
    raw = diagram_layout(est, column="est")
    assert {t.text for t in _kind(raw, "text", "label")} == {"0.50***", "\u22121.25*", "0.10"}
    # x -> y skips a layer: it bends around m rather than through it
    xy = next(e for e in _kind(raw, "edge") if e.owner == "x->y")
    m = next(n for n in _kind(raw, "node") if n.owner == "m")
    assert not _inside(m, _edge_points(xy), 0.0).any()


def test_bad_input_errors():
    est = pd.DataFrame({"lhs": ["f"], "op": ["=~"], "rhs": ["x1"], "est": [1.0]})
    with pytest.raises(SemnetError, match="no regressions"):
        path_diagram(est, column="est")
    est = pd.DataFrame({"lhs": ["y"], "op": ["~"], "rhs": ["x"], "est": [1.0]})
    with pytest.raises(SemnetError, match="no column 'std_all'"):
        path_diagram(est)


def test_fit_plot_and_save_diagram(tmp_path, monkeypatch):
    fit = semnet.sem("y1 ~ x1 + x2", semnet.datasets.political_democracy())
    svg = fit.plot(tmp_path / "d.svg", title="PolDem")
    assert (tmp_path / "d.svg").read_text(encoding="utf-8") == svg
    assert "R² = " in svg
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SemnetError, match="matplotlib"):
        save_diagram(svg, tmp_path / "d.png")


def test_png_through_matplotlib(panels, tmp_path):
    pytest.importorskip("matplotlib")
    out = save_diagram(panels, tmp_path / "d.png", dpi=72)
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert abs(width - panels.width) <= 2 and abs(height - panels.height) <= 2


def test_save_diagram_into_a_missing_folder_is_named(tmp_path):
    # was a FileNotFoundError from pathlib
    est = pd.DataFrame({"lhs": ["y"], "op": ["~"], "rhs": ["x"], "est": [0.5]})
    svg = path_diagram(est, column="est")
    with pytest.raises(SemnetError, match=r"the folder .*nodir.* does not exist"):
        save_diagram(svg, tmp_path / "nodir" / "d.svg")
    with pytest.raises(SemnetError, match="is a folder"):
        save_diagram(svg, tmp_path)
    assert save_diagram(svg, tmp_path / "d.svg").read_text(encoding="utf-8") == svg


@pytest.mark.parametrize(("options", "message"), [
    ({"ncols": 0}, "ncols must be"), ({"ncols": -1}, "ncols must be"),
    ({"ncols": 2.5}, "ncols must be"), ({"ncols": "2"}, "ncols must be"),
    ({"labels": ["visual"]}, "labels must map"), ({"labels": {"visual": 5}}, "labels must map"),
    ({"title": 5}, "title must be a string"),
])
def test_plot_options_of_the_wrong_kind_are_option_errors(options, message):
    # were ValueError/AttributeError/TypeError from dict(), str.split and a comparison;
    # ncols=-1 and 2.5 drew a diagram
    fit = semnet.sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
                     semnet.datasets.holzinger_swineford(), group="school")
    with pytest.raises(semnet.OptionError, match=message):
        fit.plot(**options)
