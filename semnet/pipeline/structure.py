"""Steps 3-5 of a fit: the parameter table, the model matrices, start values and the
equality constraints, with the identification checks that can be made before
estimation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from semnet.data.sample import Sample, threshold_counts
from semnet.errors import IdentificationError, ModelSpecificationError, OptionError
from semnet.estimation.constraints import LinearConstraints, linear_constraints
from semnet.estimation.discrepancy import DISCREPANCIES
from semnet.estimation.dwls import ordinal_starts
from semnet.estimation.start import start_values
from semnet.matrices.ram import Model
from semnet.options import Options
from semnet.partable.build import ParTable, partable
from semnet.pipeline.specify import Specification


@dataclass(frozen=True, eq=False)
class Structure:
    """The model to estimate: parameter table, model matrices, start values (one per
    row), the equality constraints, the discrepancy it is estimated with (a name of
    :data:`~semnet.estimation.discrepancy.DISCREPANCIES`) and what that discrepancy's
    plug-in learned while finding the start values (``warm_up``; LMS: the fit of the
    model without its product terms)."""

    partable: ParTable
    model: Model
    start: np.ndarray
    constraints: LinearConstraints
    discrepancy: str
    warm_up: Any = None

    @property
    def npar(self) -> int:
        """Free parameters after the equality constraints."""
        return self.model.nfree - self.constraints.n_eq

    @property
    def x0(self) -> np.ndarray:
        """Start values of the free parameters (the table numbers its free rows 1, 2,
        ... in row order: no sort needed)."""
        return self.start[self.model.free_rows]


def parameter_table(spec: Specification, labels: list[str], options: Options) -> ParTable:
    """The parameter table of the specification for the groups ``labels`` (built by its
    discrepancy's plug-in where that declares its own, as LMS)."""
    build = DISCREPANCIES.get(spec.discrepancy).partable
    if build is not None:
        pt = build(spec.parsed, labels, options)
    else:
        pt = _partable(spec, labels, options)
    if not pt.names.ov:
        raise ModelSpecificationError("the model has no observed variables.")
    ov_x = pt.names.ov_x if options.fixed_x else ()
    if ov_x and options.ordered:
        raise OptionError(
            f"observed covariates ({', '.join(ov_x)}) with ordinal items: lavaan's default "
            "(conditional.x = TRUE, thresholds and correlations regressed on the "
            "covariates) is not available yet; pass fixed_x=False to model the covariates "
            "as random variables (lavaan's conditional.x = FALSE)."
        )
    return pt


def _partable(spec: Specification, labels: list[str], options: Options) -> ParTable:
    """lavaan's parameter table of the specification's model and options."""
    return partable(
        spec.parsed,
        groups=labels,
        meanstructure=options.meanstructure,
        std_lv=options.std_lv,
        orthogonal=options.orthogonal,
        fixed_x=options.fixed_x,
        int_ov_free=options.int_ov_free,
        int_lv_free=options.int_lv_free,
        group_equal=options.group_equal,
        group_partial=options.group_partial,
        missing="fiml" if options.incomplete_data else options.missing,
        observed_products=spec.observed_products,
        ordered=threshold_counts(spec.data, options.ordered),
        parameterization=options.parameterization,
        ordinal_identification=options.ordinal_identification,
    )


def structure(
    pt: ParTable, sample: Sample, options: Options, discrepancy: str,
    settings: Mapping[str, Any] | None = None,
) -> Structure:  # fmt: skip
    """Model matrices, start values and constraints of ``pt`` for the ``discrepancy``
    (its plug-in's own where it declares them, as LMS; ``settings`` are passed to it);
    raises :class:`IdentificationError` for a factor without a scale or negative df."""
    check_scaling(pt)
    check_bounds(pt)
    build = DISCREPANCIES.get(discrepancy).structure
    warm_up = None
    if build is not None:
        model, values0, cons, warm_up = build(pt, sample, options, settings or {})
    else:
        model = Model(pt)
        values0 = ordinal_starts(pt, sample, start_values(pt, sample.moments))
        cons = linear_constraints(pt, model.nfree, model.free, values0)
    check_df(pt, model.nfree - cons.n_eq, options.fixed_x)
    return Structure(pt, model, values0, cons, discrepancy, warm_up)


def check_bounds(pt: ParTable) -> None:
    """Bounds written in the syntax (``lower(0.6)*x1``) are refused, not ignored: the
    estimation does not enforce them (lavaan does, through its optimizer's box
    constraints); an inequality constraint on a label does the same job."""
    params = pt.cols
    bounded = (np.isfinite(params["lower"]) | np.isfinite(params["upper"])) & (params["free"] > 0)
    if not bounded.any():
        return
    r = int(bounded.argmax())
    lhs, op, rhs = params["lhs"][r], params["op"][r], params["rhs"][r]
    side, value = ("lower", params["lower"][r]) if np.isfinite(params["lower"][r]) else (
        "upper", params["upper"][r])
    sign = ">" if side == "lower" else "<"
    raise ModelSpecificationError(
        f"{lhs} {op} {rhs}: the bound {side}({value:g}) is not enforced by semnet's "
        f"estimation; label the parameter and constrain it instead, e.g. '{lhs} {op} "
        f"v*{rhs}' with 'v {sign} {value:g}' (the same estimates as lavaan's bound)."
    )


def check_scaling(pt: ParTable) -> None:
    params = pt.cols
    lv = set(pt.names.lv)
    # per (group, latent variable), from one pass over the rows as plain lists
    first: dict[tuple[int, str], str] = {}  # its first indicator
    scaled: set[tuple[int, str]] = set()  # a loading gives it a scale
    variance: dict[tuple[int, str], bool] = {}  # it has a variance row: is that fixed?
    for g, o, f, x, free, u, label in zip(
        params["group"].tolist(), params["op"].tolist(), params["lhs"].tolist(),
        params["rhs"].tolist(), params["free"].tolist(), params["ustart"].tolist(),
        params["label"].tolist(), strict=True,
    ):  # fmt: skip
        if f not in lv:
            continue
        if o == "=~":
            first.setdefault((g, f), x)
            # a fixed non-zero loading, or loadings tied to others, give the scale
            if (free == 0 and not math.isnan(u) and u != 0) or label != "":
                scaled.add((g, f))
        elif o == "~~" and x == f:
            variance[g, f] = variance.get((g, f), False) or free == 0
    for g in range(1, pt.ngroups + 1):
        for f in pt.names.lv:
            if (g, f) not in scaled and variance.get((g, f)) is False:
                raise IdentificationError(
                    f"the latent variable {f!r} has no scale: all its loadings and its "
                    f"variance are free. Fix one loading (e.g. '{f} =~ 1*{first[g, f]} + ...'), "
                    f"fix its variance ('{f} ~~ 1*{f}'), or pass std_lv=True."
                )


def check_df(pt: ParTable, npar: int, fixed_x: bool) -> None:
    ndat = pt.ndat(fixed_x)
    if ndat - npar < 0:
        hint = ""
        params = pt.cols
        for f in pt.names.lv:
            k = int(((params["op"] == "=~") & (params["lhs"] == f) & (params["group"] == 1)).sum())
            if k <= 2:
                hint = (
                    f" The factor {f!r} has only {k} indicator(s): add a third indicator, "
                    f"constrain its loadings equal (e.g. '{f} =~ a*x1 + a*x2'), or let it "
                    "correlate with other factors."
                )
                break
        raise IdentificationError(
            f"the model is not identified: it has {npar} free parameters but the data "
            f"provide only {ndat} moments (df = {ndat - npar}). Fix or constrain "
            f"{npar - ndat} parameter(s)." + hint
        )


def heywood(pt: ParTable, values: np.ndarray) -> list[str]:
    params = pt.cols
    lhs, op, rhs = params["lhs"], params["op"], params["rhs"]
    # the negative variances, in row order (a loop over the few negative values only)
    negative = [
        lhs[r] for r in (values < 0).nonzero()[0].tolist() if op[r] == "~~" and lhs[r] == rhs[r]
    ]
    out = []
    for kind, names in (("observed", pt.names.ov), ("latent", pt.names.lv)):
        bad = [v for v in dict.fromkeys(negative) if v in names]
        if bad:
            out.append(
                f"some estimated {kind} variances are negative ({', '.join(bad)}): a "
                "Heywood case. Check for a misspecified model, too few indicators, or too "
                "small a sample."
            )
    return out
