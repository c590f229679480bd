"""Step 1 of a fit: the model's specification — its text read and parsed, product terms
expanded, and the discrepancy chosen (LMS for latent product terms where it applies).

``a:b`` between two latent variables is estimated either by LMS (its own likelihood,
:mod:`semnet.estimation.lms`) or by product indicators measuring a latent ``a:b``; a
product of two observed variables is their raw product column, as in lavaan.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from semnet.analyses.products import product_indicators
from semnet.data.moments import validate_frame
from semnet.errors import DataError, ModelSpecificationError, OptionError, check_choice
from semnet.estimation.discrepancy import DISCREPANCIES
from semnet.inference.plugins import TESTS, VCOV
from semnet.options import INTERACTIONS, Options
from semnet.syntax import parse_model
from semnet.syntax.model import ParsedModel, Relation


@dataclass(frozen=True)
class Specification:
    """The model to fit.

    Attributes
    ----------
    parsed : ParsedModel
        The model, product terms replaced by what estimates them (unless its discrepancy
        estimates them itself).
    data : DataFrame or None
        The data, with the product columns added (a copy) where products were built.
    discrepancy : str
        The discrepancy to minimize (from :data:`DISCREPANCIES`): the options', or the
        one its plug-in names for latent product terms (``latent_products``: LMS).
    products : dict
        What was built for each product term (recorded in ``fit.meta["interaction"]``).
    observed_products : tuple of str
        Product columns of two observed variables.
    settings : dict
        Numerical settings of the discrepancy given by the caller (``semnet.lms()``'s
        quadrature and optimizer settings), read by its plug-in's structure step.
    """

    parsed: ParsedModel
    data: pd.DataFrame | None
    discrepancy: str
    products: dict[str, object] = field(default_factory=dict)
    observed_products: tuple[str, ...] = ()
    settings: dict[str, object] = field(default_factory=dict)


def read_model(model: str | Path) -> str:
    """Model text from a string or from a path to a model file (``*.lav``)."""
    if isinstance(model, str) and "\n" not in model and model.strip().endswith((".lav", ".txt")):
        model = Path(model.strip())
    if isinstance(model, Path):
        if model.is_dir():
            raise ModelSpecificationError(
                f"model file {str(model)!r} is a folder; pass the path of a model file in it."
            )
        if not model.is_file():
            raise ModelSpecificationError(
                f"model file {str(model)!r} does not exist (looked in {str(Path.cwd())!r}); "
                "check the path, or pass the model syntax itself as a string."
            )
        try:
            return model.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ModelSpecificationError(
                f"model file {str(model)!r} is not UTF-8 text (byte {exc.object[exc.start]:#x} "
                f"at position {exc.start}); save it as UTF-8 in your editor."
            ) from None
    if not isinstance(model, str):
        raise ModelSpecificationError(
            f"model must be lavaan model syntax (a string) or a path, not {type(model).__name__}."
        )
    return model



def _check_latent_names(parsed: ParsedModel, data: pd.DataFrame) -> None:
    """A latent variable may not have the name of a column of the data (lavaan refuses
    it too): the column would be silently ignored, which a typo makes easy."""
    clash = [f for f in parsed.roles[0].lv if f in data.columns]
    if clash:
        raise ModelSpecificationError(
            f"the latent variable(s) {', '.join(map(repr, clash))} have the name of a column "
            "of the data, whose values would be ignored; rename the latent variable (e.g. "
            f"'{clash[0]}_f'). lavaan refuses this too."
        )


def specify(model: str | Path | ParsedModel, data: pd.DataFrame | None, options: Options,
            raw_data: bool) -> Specification:
    """Parse ``model`` and decide how its product terms are estimated.

    LMS is the default for latent products where it applies (raw data, plain ML,
    listwise deletion, one group; several groups with ``interaction="lms"``);
    otherwise double-mean product indicators.  With ``interaction="lms"`` the standard
    errors may be any that the LMS plug-in declares (the sandwich,
    ``se="robust.huber.white"``, too).
    """
    parsed = model if isinstance(model, ParsedModel) else parse_model(read_model(model))
    if raw_data and isinstance(data, pd.DataFrame):
        _check_latent_names(parsed, data)
    product_terms = [r for r in parsed.relations if r.op == "~" and ":" in r.rhs]
    if not product_terms:
        return Specification(parsed, data, options.discrepancy)
    latent_names = {r.lhs for r in parsed.relations if r.op == "=~"}
    has_products = any(set(r.rhs.split(":")) <= latent_names for r in product_terms)
    extended = DISCREPANCIES.get(options.discrepancy).latent_products
    lms_possible = raw_data and options.plain and extended is not None
    interaction = options.interaction
    if interaction is None:
        interaction = "lms" if lms_possible and options.group is None else "double_mean"
    interaction = check_choice("interaction", interaction, INTERACTIONS)
    if has_products and interaction == "lms":
        if not (raw_data and extended is not None and _lms_options(options, extended)):
            raise OptionError(
                "interaction='lms' needs raw data, estimator='ML', missing='listwise', no "
                "sampling weights or clusters, no bootstrap, the standard test and "
                "se='standard' or 'robust.huber.white'; use interaction='double_mean' "
                "(product indicators) otherwise."
            )
        terms = {r.rhs: {"method": "lms"} for r in product_terms}
        return Specification(parsed, data, extended, products=terms)
    if data is None:
        raise DataError(
            "models with product terms ('a:b') need the raw data to build the products."
        )
    parsed, data, info, observed = expand_products(
        parsed, data, interaction, options.interaction_match
    )
    return Specification(parsed, data, options.discrepancy, products=info,
                         observed_products=observed)  # fmt: skip


def _lms_options(options: Options, name: str) -> bool:
    """The options fit LMS (the discrepancy ``name``): complete data without sampling
    weights, clusters or a survey design (its likelihood has no weighted version), no
    bootstrap, the unscaled test, and standard errors the plug-in declares."""
    usable = DISCREPANCIES.get(name).vcov
    weights, _, cluster = options.design
    return (
        not options.incomplete_data and not options.bootstrap
        and weights is None and cluster is None and options.survey is None
        and not TESTS.get(options.test).scaled
        and (usable is None or VCOV.name(options.se) in usable)
    )  # fmt: skip


def expand_products(
    parsed: ParsedModel, data: pd.DataFrame, method: str, match: bool | None
) -> tuple[ParsedModel, pd.DataFrame, dict[str, object], tuple[str, ...]]:
    """Replace product terms ``a:b`` by what estimates them.

    Latent x latent: product indicators of the two factors' indicators (see
    :func:`semnet.analyses.products.product_indicators`) measure a latent ``a:b``
    (first loading fixed to 1; products sharing an indicator get correlated residuals).
    Observed x observed: the raw product column ``a:b``, as lavaan computes it.
    Returns the new parsed model, a copy of the data with the product columns, a
    description of what was built, and the observed product names.
    """
    validate_frame(data, [], None)
    indicators: dict[str, list[str]] = {}
    for r in parsed.relations:
        if r.op == "=~":
            indicators.setdefault(r.lhs, []).append(r.rhs)
    latent = set(indicators)
    terms = list(dict.fromkeys(r.rhs for r in parsed.relations if r.op == "~" and ":" in r.rhs))
    relations = list(parsed.relations)
    data = data.copy()
    info: dict[str, object] = {}
    observed: list[str] = []
    for term in terms:
        parts = term.split(":")
        line = next(r.line for r in parsed.relations if r.rhs == term)
        if len(parts) != 2:
            raise ModelSpecificationError(
                f"line {line}: '{term}' has more than two factors; semnet estimates two-way "
                "interactions."
            )
        a, b = parts
        if a in latent and b in latent:
            xs = [v for v in indicators[a] if v not in latent]
            zs = [v for v in indicators[b] if v not in latent]
            matched = len(xs) == len(zs) if match is None else match
            if matched:
                # with unequal numbers, the first indicators are paired and the extra
                # indicators of the longer factor enter no product
                k = min(len(xs), len(zs))
                xs, zs = xs[:k], zs[:k]
            pairs = list(zip(xs, zs, strict=True)) if matched else [(x, z) for x in xs for z in zs]
            names = [f"{x}.{z}" for x, z in pairs]
            data = product_indicators(data, xs, zs, method=method, match=matched, names=names)
            relations += [Relation(term, "=~", n, line=line) for n in names]
            for (p1, n1), (p2, n2) in itertools.combinations(zip(pairs, names, strict=True), 2):
                if set(p1) & set(p2):
                    relations.append(Relation(n1, "~~", n2, line=line))
            info[term] = {"method": method, "matched": matched, "indicators": names}
        elif a not in latent and b not in latent:
            for v in (a, b):
                if v not in data.columns:
                    raise DataError(f"'{v}' in the product term '{term}' is not a column.")
            data[term] = pd.to_numeric(data[a], errors="coerce") * pd.to_numeric(
                data[b], errors="coerce"
            )
            observed.append(term)
            info[term] = {"method": "observed product"}
        else:
            other = b if a in latent else a
            if other not in data.columns:
                raise ModelSpecificationError(
                    f"line {line}: '{other}' in the product term '{term}' is neither a latent "
                    "variable of the model (no '=~' line) nor a column of the data; define "
                    "it or correct the name."
                )
            raise ModelSpecificationError(
                f"line {line}: '{term}' multiplies a latent and an observed variable; make the "
                "observed one a single-indicator factor (e.g. 'f_x =~ x')."
            )
    new = ParsedModel(tuple(relations), parsed.constraints, parsed.text)
    return new, data, info, tuple(observed)
