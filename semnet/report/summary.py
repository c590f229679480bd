"""A printable report of a fit that reads like lavaan's ``summary()``.

:class:`Summary` only formats: every number comes from the fit's own (cached) results
-- :meth:`~semnet.results.fit.Fit.estimates`, :meth:`~semnet.results.fit.Fit.fit_measures`,
:meth:`~semnet.results.fit.Fit.implied` -- so printing never re-estimates anything.

Examples
--------
>>> import semnet
>>> model = '''
... visual  =~ x1 + x2 + x3
... textual =~ x4 + x5 + x6
... speed   =~ x7 + x8 + x9
... '''
>>> fit = semnet.cfa(model, semnet.datasets.holzinger_swineford())
>>> report = fit.summary(standardized=True)
>>> print(report)  # doctest: +ELLIPSIS
semnet 0.1.0 ended normally after ... iterations
...
  Test statistic                                85.306
  Degrees of freedom                                24
...
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from semnet.report.format import (
    format_integer,
    format_number,
    format_pvalue,
    html_escape,
    is_missing,
    latex_escape,
)
from semnet.report.tables import Column, Table

if TYPE_CHECKING:  # pragma: no cover
    from semnet.results.fit import Fit

__all__ = ["Summary"]

#: total width of the "label ... value" lines of the header blocks (as lavaan)
_LINE = 54
#: width of the name column of the parameter tables (grows for long names or labels)
_NAME = 18
#: minimum width of a numeric column of the parameter tables
_NUM = 9

#: lavaan's sections, in lavaan's order: (title, selector of estimates rows)
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("Latent Variables", "=~"),
    ("Regressions", "~"),
    ("Covariances", "~~cov"),
    ("Intercepts", "~1"),
    ("Thresholds", "|"),
    ("Variances", "~~var"),
    ("Scales y*", "~*~"),
)

_ESTIMATOR_NAMES = {"standard": "Standard", "robust": "Robust", "bootstrap": "Bootstrap",
                    "robust_sem": "Robust.sem", "robust_huber_white": "Sandwich",
                    "robust_cluster": "Robust.cluster", "robust_cluster_sem": "Robust.cluster.sem"}


#: the p-value column of the parameter tables
_PCOL = "P(>|z|)"


@dataclass(frozen=True)
class _Block:
    """One section of the parameter tables.

    ``rows`` holds ``(kind, name text, values)``; a value of None is a blank cell (the
    standard error of a fixed parameter), NaN is lavaan's ``NA``.
    """

    title: str
    rows: list[tuple[str, str, list[float | None]]]

    def heads(self, columns: list[str]) -> list[str]:
        """The column heads of this section."""
        return ["|Slack|"] if self.title == "Constraints" else columns

    def text_rows(self, columns: list[str]) -> list[tuple[str, str, list[str]]]:
        """The rows with their values formatted as the text report prints them."""
        heads = self.heads(columns)
        return [(kind, name, [_cell(v, h) for v, h in zip(values, heads, strict=False)])
                for kind, name, values in self.rows]

    def table(self, columns: list[str], title: str = "") -> Table:
        """The section as a :class:`~semnet.report.tables.Table` (names unindented)."""
        heads = self.heads(columns)
        data: dict[str, list[Any]] = {"": [" ".join(name.split()) for _, name, _ in self.rows]}
        for j, head in enumerate(heads):
            data[head] = [np.nan if j >= len(v) or v[j] is None else v[j]
                          for _, _, v in self.rows]
        kinds = {h: Column("pvalue" if h == _PCOL else "number") for h in heads}
        name = self.title.lower().replace(" ", "_")
        return Table(name, title, pd.DataFrame(data), columns=kinds)


def _cell(value: float | None, head: str) -> str:
    """A parameter-table cell of the text report: blank, ``NA`` or a number (p-values
    too: the text keeps lavaan's layout)."""
    return "" if value is None else _num(value)


def _num(value: Any, digits: int = 3) -> str:
    """A number as lavaan prints it (fixed decimals, no negative zero, ``NA``)."""
    return format_number(value, digits, na="NA")


def _value(value: Any) -> float:
    """A cell value as a float (NaN when missing or not a number)."""
    try:
        return float("nan") if is_missing(value) else float(value)
    except (TypeError, ValueError):
        return float("nan")


def _pvalue(value: Any) -> str:
    """A p-value of the Markdown/HTML/LaTeX report, in the package's style."""
    return format_pvalue(value, na="NA")


def _integer(value: Any) -> str:
    return format_integer(value, na="NA")


def _line(label: str, value: str = "", indent: int = 2, width: int = _LINE) -> str:
    left = " " * indent + label
    pad = max(1, width - len(left) - len(value))
    return left + " " * pad + value if value else left


class Summary:
    """lavaan-style text report of a :class:`~semnet.results.fit.Fit`.

    Parameters
    ----------
    fit : Fit
        A fitted model (from :func:`semnet.sem` or :func:`semnet.cfa`).
    standardized : bool
        Add the ``Std.lv`` and ``Std.all`` columns (lavaan's ``standardized = TRUE``).
    fit_measures : bool
        Add lavaan's fit-measure blocks (baseline model, CFI/TLI, log-likelihood and
        information criteria, RMSEA with its 90% interval, SRMR).

    Notes
    -----
    ``str(summary)`` gives the text report; :meth:`to_markdown`, :meth:`to_html` and
    :meth:`to_latex` give the same blocks with the parameter sections as
    :class:`~semnet.report.tables.Table` s, and ``_repr_html_`` lets notebooks show the
    text.  Every number is formatted by :mod:`semnet.report.format`.  The text is lavaan's
    layout, p-values included (three decimals, ``0.000``, so it lines up with lavaan's
    output); the Markdown, HTML and LaTeX versions print p-values in the package's style
    for papers (``< .001``, ``0.023``).
    Parameters with a label -- user labels such as ``a*x2`` and the ``.p2.`` labels lavaan
    gives to ``group_equal`` constraints -- are shown as ``x2 (a)``; fixed parameters have
    blank standard errors.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit = semnet.cfa("visual =~ x1 + x2 + x3", hs, group="school",
    ...                  group_equal=["loadings"])
    >>> text = str(fit.summary())
    >>> "Group 1 [Pasteur]:" in text and "Group 2 [Grant-White]:" in text
    True
    """

    _user_test_title = "Model Test User Model"

    def __init__(self, fit: Fit, standardized: bool = False, fit_measures: bool = True) -> None:
        self.fit = fit
        self.standardized = bool(standardized)
        self.fit_measures = bool(fit_measures)
        self._est: pd.DataFrame | None = None

    # -- public rendering ------------------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return f"<pre>{html_escape(self.to_text())}</pre>"

    def to_text(self) -> str:
        """The whole report as plain text (what ``print(summary)`` shows)."""
        parts = [
            "\n".join(self._header()),
            "\n".join(self._user_test()),
        ]
        if self.fit_measures:
            parts.extend("\n".join(block) for block in self._fit_measure_blocks())
        parts.append("\n".join(self._estimates_text()))
        warn = self._warnings()
        if warn:
            parts.append("\n".join(warn))
        return "\n\n".join(parts) + "\n"

    def to_markdown(self) -> str:
        """The report as Markdown: key facts as lists, parameter sections as tables."""
        out: list[str] = []
        for level, title, body in self._sections():
            out += ["#" * level + " " + title, ""]
            if isinstance(body, Table):
                out.append(body.to_markdown())
            elif body:
                out += [f"- {label}: {value}" if label else f"- {value}" for label, value in body]
                out.append("")
        return "\n".join(out).rstrip("\n") + "\n"

    def to_html(self) -> str:
        """The report as HTML: headings, key facts as lists, parameter sections as tables.

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.cfa("visual =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
        >>> "<h4>Latent Variables</h4>" in fit.summary().to_html()
        True
        """
        out: list[str] = []
        for level, title, body in self._sections():
            tag = f"h{level}"
            out.append(f"<{tag}>{html_escape(title)}</{tag}>")
            if isinstance(body, Table):
                out.append(body.to_html().rstrip("\n"))
            elif body:
                items = [f"{label}: {value}" if label else value for label, value in body]
                out += ["<ul>", *(f"  <li>{html_escape(i)}</li>" for i in items), "</ul>"]
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """The report as LaTeX: every block a booktabs table (``\\usepackage{booktabs}``).

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.cfa("visual =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
        >>> "\\\\caption{Latent Variables}" in fit.summary().to_latex()
        True
        """
        out: list[str] = []
        for level, title, body in self._sections():
            if isinstance(body, Table):
                out.append(Table(body.name, title, body.frame, columns=body.columns).to_latex())
            elif level < 4 and not body:
                out.append(rf"\subsection*{{{latex_escape(title)}}}" + "\n")
            elif body:
                frame = pd.DataFrame(body, columns=["", "Value"])
                out.append(Table("facts", title, frame, columns={"Value": "text"}).to_latex())
        return "\n".join(out)

    def _sections(self) -> list[tuple[int, str, list[tuple[str, str]] | Table]]:
        """The report as (heading level, title, key facts or a table), in print order."""
        fit = self.fit
        out: list[tuple[int, str, list[tuple[str, str]] | Table]] = [
            (2, f"semnet {self._version()} — {self._status()}", self._header_items()),
            (3, self._user_test_title, self._user_test_items(_pvalue)),
        ]
        if self.fit_measures:
            out += [(3, title, [(label, value) for label, value in items if label])
                    for title, items in self._fit_measure_items(_pvalue)]
        cols = self._columns()
        for gi, label in enumerate(fit.groups):
            if len(fit.groups) > 1:
                out.append((3, f"Group {gi + 1} [{label}]", []))
            out += [(4, b.title, b.table(cols)) for b in self._group_blocks(gi)]
        out += [(4, b.title, b.table(cols)) for b in self._global_blocks()]
        if fit.warnings:
            out.append((3, "Warnings", [("", str(w)) for w in fit.warnings]))
        return out

    # -- header ------------------------------------------------------------------------------
    def _version(self) -> str:
        meta = getattr(self.fit, "meta", None) or {}
        if "semnet_version" in meta:
            return str(meta["semnet_version"])
        from semnet import __version__

        return __version__

    def _status(self) -> str:
        fit = self.fit
        if fit.converged:
            return f"ended normally after {fit.iterations} iterations"
        return f"did NOT end normally after {fit.iterations} iterations"

    def _optimizer(self) -> str:
        meta = getattr(self.fit, "meta", None) or {}
        return str(meta.get("optimizer", "Fisher scoring"))

    def _header_items(self) -> list[tuple[str, str]]:
        fit = self.fit
        items = [
            ("Estimator", str(fit.options.estimator)),
            ("Optimization method", self._optimizer()),
            ("Number of model parameters", str(int(fit.model.nfree))),
        ]
        n_eq = int(getattr(fit.constraints, "n_eq", 0) or 0)
        if n_eq:
            items.append(("Number of equality constraints", str(n_eq)))
        for label, (used, total) in self._nobs().items():
            name = "Number of observations" + (f" [{label}]" if label else "")
            items.append((name, f"{used} used of {total}" if used != total else str(used)))
        return items

    def _nobs(self) -> dict[str, tuple[int, int]]:
        fit = self.fit
        dropped = fit.n_dropped
        return {g: (int(n), int(n) + int(dropped.get(g, 0))) for g, n in fit.nobs.items()}

    def _header(self) -> list[str]:
        fit = self.fit
        lines = [f"semnet {self._version()} {self._status()}", ""]
        lines.append(_line("Estimator", str(fit.options.estimator)))
        lines.append(_line("Optimization method", self._optimizer()))
        lines.append(_line("Number of model parameters", str(int(fit.model.nfree))))
        n_eq = int(getattr(fit.constraints, "n_eq", 0) or 0)
        if n_eq:
            lines.append(_line("Number of equality constraints", str(n_eq)))
        lines.append("")
        nobs = self._nobs()
        any_dropped = any(used != total for used, total in nobs.values())
        several = len(nobs) > 1
        if any_dropped:
            lines.append(_line("", "Used", indent=0) + f"{'Total':>12}")
        if several:
            lines.append("  Number of observations per group:")
            for label, (used, total) in nobs.items():
                row = _line(str(label), str(used), indent=4)
                lines.append(row + (f"{total:>12}" if any_dropped else ""))
        else:
            used, total = next(iter(nobs.values()))
            row = _line("Number of observations", str(used))
            lines.append(row + (f"{total:>12}" if any_dropped else ""))
        return lines + self._design_lines()

    def _design_lines(self) -> list[str]:
        """Sampling weights and clusters (lavaan's header lines), and what they do."""
        o = self.fit.options
        lines = []
        if o.cluster is not None:
            n_c = sum(len(np.unique(m.clusters)) for m in self.fit.moments)
            lines.append(_line(f"Number of clusters [{o.cluster}]", str(n_c)))
        if o.survey is not None:
            lines += self._survey_lines()
        if o.sampling_weights is not None:
            lines.append(_line("Sampling weights variable", o.sampling_weights))
            lines.append(_line("Sampling weights normalization", o.sampling_weights_normalization))
        if o.sampling_weights is not None or o.cluster is not None:
            how = " and ".join(
                w for w, on in (("weighted moments and scores", o.sampling_weights),
                                ("scores summed within clusters", o.cluster)) if on
            )  # fmt: skip
            lines += [
                "",
                f"  Survey design: {how};",
                f"  standard errors {o.se.replace('_', '.')}, test "
                f"{o.test.replace('_', '.')} (as lavaan).",
            ]
        return lines

    def _survey_lines(self) -> list[str]:
        """A SurveyDesign's columns and the mean design effects of the moments, per group."""
        design, deff = self.fit.sample.survey
        lines = [_line(f"Survey design {role}", col) for role, col in design.columns.items()]
        p = len(self.fit.moments[0].names)
        for label, d in zip(self.fit.groups, deff, strict=True):
            where = f" [{label}]" if label else ""
            lines.append(_line(f"Design effect, means{where}", f"{d[:p].mean():.3f}"))
            lines.append(_line(f"Design effect, (co)variances{where}",
                               f"{d[p:].mean():.3f}"))  # fmt: skip
        return [
            *lines,
            "",
            "  Moments and their Gamma estimated by Taylor linearisation over the design;",
            f"  standard errors {self.fit.options.se.replace('_', '.')}, test "
            f"{self.fit.options.test.replace('_', '.')} (as lavaan.survey).",
        ]

    # -- model test --------------------------------------------------------------------------
    def group_chisq(self) -> dict[str, float]:
        """Each group's contribution ``N_g F_g`` to the chi-square (lavaan's per-group test).

        ``F_g = log|Σ| - log|S| + tr(S Σ⁻¹) - p + (m - μ)' Σ⁻¹ (m - μ)`` with the implied
        moments of the fit and the (N-divisor) sample moments.
        """
        fit = self.fit
        if fit.sample.ordinal is not None:  # least squares on the polychoric statistics
            return dict(zip(fit.groups, fit.discrepancy().group_chisq(fit.x), strict=True))
        implied = fit.implied()
        out: dict[str, float] = {}
        meanstructure = bool(fit.partable.meanstructure)
        for m in fit.moments:
            sigma = np.asarray(implied[m.label]["cov"], dtype=float)
            S = np.asarray(m.cov, dtype=float)
            p = S.shape[0]
            sign, logdet = np.linalg.slogdet(sigma)
            if sign <= 0:
                out[m.label] = float("nan")
                continue
            _, logdet_s = np.linalg.slogdet(S)
            inv = np.linalg.inv(sigma)
            f = logdet - logdet_s + float(np.trace(S @ inv)) - p
            if meanstructure:
                d = np.asarray(m.mean, dtype=float) - np.asarray(
                    implied[m.label]["mean"], dtype=float
                )
                f += float(d @ inv @ d)
            out[m.label] = m.size * f
        return out

    def _user_test_items(self, pvalue: Callable[[Any], str] = _num) -> list[tuple[str, str]]:
        fit = self.fit
        fm = self._fm()
        items = [
            ("Test statistic", _num(fit.chisq)),
            ("Degrees of freedom", _integer(fit.df)),
            ("P-value (Chi-square)", pvalue(fm.get("pvalue")) if fit.df > 0 else "NA"),
        ]
        if len(fit.groups) > 1:
            for label, value in self.group_chisq().items():
                items.append((f"Test statistic [{label}]", _num(value)))
        boot = getattr(fit, "bootstrap_test", None)
        if boot is not None:
            items.append(("P-value (Bollen-Stine bootstrap)", pvalue(boot.bollen_stine_pvalue)))
        return items

    def _user_test(self) -> list[str]:
        fit = self.fit
        fm = self._fm()
        lines = ["Model Test User Model:", ""]
        lines.append(_line("Test statistic", _num(fit.chisq)))
        lines.append(_line("Degrees of freedom", _integer(fit.df)))
        if fit.df > 0:
            lines.append(_line("P-value (Chi-square)", _num(fm.get("pvalue", float("nan")))))
        t = fit.scaled_test
        if t is not None:
            name = {
                "satorra_bentler": "Satorra-Bentler correction",
                "yuan_bentler_mplus": "Yuan-Bentler correction (Mplus variant)",
                "scaled_shifted": "simple second-order correction",
                "mean_var_adjusted": "Satterthwaite correction",
            }.get(t.name, t.name)
            lines.append(_line("Scaled test statistic", _num(t.stat)))
            if t.df != fit.df:  # the Satterthwaite test's own (fractional) df
                lines.append(_line("Degrees of freedom (scaled)", _num(t.df)))
            lines.append(_line("P-value (scaled)", _num(fm.get("pvalue_scaled", float("nan")))))
            lines.append(_line("Scaling correction factor", _num(t.scaling_factor)))
            if np.isfinite(t.shift_parameter):  # (a scaled-shifted test)
                lines.append(_line("Shift parameter", _num(t.shift_parameter)))
            lines.append(f"    for the {name}")
        if len(fit.groups) > 1:
            lines.append("  Test statistic for each group:")
            for label, value in self.group_chisq().items():
                lines.append(_line(str(label), _num(value), indent=4))
        boot = getattr(fit, "bootstrap_test", None)
        if boot is not None:  # lavaan: the statistic again, with its bootstrap p-value
            lines += [
                "",
                _line("Test statistic", _num(fit.chisq)),
                _line("Degrees of freedom", _integer(fit.df)),
                _line("P-value (Bollen-Stine bootstrap)", _num(boot.bollen_stine_pvalue)),
                _line("Number of successful bootstrap draws", str(boot.n_ok)),
            ]
        return lines

    # -- fit measures ------------------------------------------------------------------------
    def _fm(self) -> pd.Series:
        return self.fit.fit_measures()

    def _fit_measure_items(
        self, pvalue: Callable[[Any], str] = _num
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        fm = self._fm()

        def get(key: str) -> str:
            return _num(fm[key]) if key in fm.index else "NA"

        def getp(key: str) -> str:
            return pvalue(fm[key]) if key in fm.index else "NA"

        level = fm.get("rmsea_ci_level", 0.90)
        pct = _integer(100 * float(level)) if np.isfinite(level) else "90"
        close = fm.get("rmsea_close_h0", 0.05)
        notclose = fm.get("rmsea_notclose_h0", 0.08)
        blocks = [
            (
                "Model Test Baseline Model",
                [
                    ("Test statistic", get("baseline_chisq")),
                    ("Degrees of freedom", _integer(fm.get("baseline_df", float("nan")))),
                    ("P-value", getp("baseline_pvalue")),
                ],
            ),
            (
                "User Model versus Baseline Model",
                [
                    ("Comparative Fit Index (CFI)", get("cfi")),
                    ("Tucker-Lewis Index (TLI)", get("tli")),
                ],
            ),
            (
                "Loglikelihood and Information Criteria",
                [
                    ("Loglikelihood user model (H0)", get("logl")),
                    ("Loglikelihood unrestricted model (H1)", get("unrestricted_logl")),
                    ("", ""),
                    ("Akaike (AIC)", get("aic")),
                    ("Bayesian (BIC)", get("bic")),
                    ("Sample-size adjusted Bayesian (SABIC)", get("bic2")),
                ],
            ),
            (
                "Root Mean Square Error of Approximation",
                [
                    ("RMSEA", get("rmsea")),
                    (f"{pct} Percent confidence interval - lower", get("rmsea_ci_lower")),
                    (f"{pct} Percent confidence interval - upper", get("rmsea_ci_upper")),
                    (f"P-value H_0: RMSEA <= {_num(close)}", getp("rmsea_pvalue")),
                ],
            ),
            ("Standardized Root Mean Square Residual", [("SRMR", get("srmr"))]),
        ]
        if "rmsea_notclose_pvalue" in fm.index:
            blocks[3][1].append(
                (f"P-value H_0: RMSEA >= {_num(notclose)}", getp("rmsea_notclose_pvalue"))
            )
        if "cfi_scaled" in fm.index:
            blocks[1][1].append(
                ("Scaled CFI / TLI", f"{get('cfi_scaled')} / {get('tli_scaled')}")
            )
            blocks[3][1].append(("Scaled RMSEA", get("rmsea_scaled")))
        if "cfi_robust" in fm.index:
            blocks[1][1].append(
                ("Robust CFI / TLI", f"{get('cfi_robust')} / {get('tli_robust')}")
            )
            blocks[3][1].extend(
                [
                    ("Robust RMSEA", get("rmsea_robust")),
                    (
                        f"Robust RMSEA {pct} Percent CI",
                        f"{get('rmsea_ci_lower_robust')} {get('rmsea_ci_upper_robust')}",
                    ),
                ]
            )
        if "logl" not in fm.index:  # least squares (ordinal items): no likelihood
            blocks = [b for b in blocks if b[0] != "Loglikelihood and Information Criteria"]
        return blocks

    def _fit_measure_blocks(self) -> list[list[str]]:
        out = []
        for title, items in self._fit_measure_items():
            lines = [f"{title}:", ""]
            for label, value in items:
                lines.append(_line(label, value) if label else "")
            out.append(lines)
        return out

    # -- parameter estimates -----------------------------------------------------------------
    def _columns(self) -> list[str]:
        cols = ["Estimate", "Std.Err", "z-value", "P(>|z|)"]
        if self.standardized:
            cols += ["Std.lv", "Std.all"]
        return cols

    def _estimates(self) -> pd.DataFrame:
        # fit.estimates() builds a fresh frame each call; build it once per report
        if self._est is None:
            self._est = self.fit.estimates(standardized=self.standardized)
        return self._est

    def _free_mask(self, est: pd.DataFrame) -> np.ndarray:
        """Which estimates rows are free parameters (``:=`` rows count as free)."""
        params = self.fit.partable.params
        n = len(params)
        free = np.ones(len(est), dtype=bool)
        free[:n] = params["free"].to_numpy() > 0
        return free

    def _dotted(self) -> set[str]:
        """Variables lavaan prints with a leading dot: dependent ones (residual terms)."""
        params = self.fit.partable.params
        dep = set(params.loc[params["op"] == "=~", "rhs"]) | set(
            params.loc[params["op"] == "~", "lhs"]
        )
        return dep

    def _cells(self, row: pd.Series, free: bool) -> list[float | None]:
        """The values of a parameter row; None where lavaan leaves the cell blank."""
        cells: list[float | None] = [_value(row["est"])]
        se = row["se"]
        if free and (is_missing(se) or float(se) > 0):
            cells += [_value(se), _value(row["z"]), _value(row["pvalue"])]
        else:
            cells += [None, None, None]
        if self.standardized:
            cells += [_value(row.get("std_lv")), _value(row.get("std_all"))]
        return cells

    @staticmethod
    def _name(name: str, label: str, indent: int) -> str:
        text = " " * indent + name
        if label:
            lab = f"({label})"
            pad = max(1, _NAME - len(text) - len(lab))
            text = text + " " * pad + lab
        return text

    def _group_blocks(self, gi: int) -> list[_Block]:
        fit = self.fit
        est = self._estimates()
        free = self._free_mask(est)
        dotted = self._dotted()
        ngroups = len(fit.groups)
        n_par = len(fit.partable.params)
        idx = np.arange(len(est))
        in_group = idx < n_par
        if ngroups > 1:
            in_group &= (est["group"] == fit.groups[gi]).to_numpy()
        # lavaan hides the moments of fixed.x covariates (not model parameters)
        params = fit.partable.params
        if "exo" in params.columns:
            exo = np.zeros(len(est), dtype=bool)
            exo[:n_par] = (params["exo"].to_numpy() == 1) & (params["free"].to_numpy() == 0)
            in_group &= ~exo

        def show(v: str, section: str) -> str:
            # lavaan marks residual (co)variances and intercepts of dependent variables
            return "." + v if v in dotted and section in ("~~cov", "~~var", "~1") else v

        blocks: list[_Block] = []
        for title, sel in _SECTIONS:
            if sel == "~~cov":
                mask = (est["op"] == "~~") & (est["lhs"] != est["rhs"])
            elif sel == "~~var":
                mask = (est["op"] == "~~") & (est["lhs"] == est["rhs"])
            else:
                mask = est["op"] == sel
            rows = est[mask.to_numpy() & in_group]
            if rows.empty:
                continue
            out: list[tuple[str, str, list[str]]] = []
            if sel in ("=~", "~", "~~cov"):
                last = None
                for i, row in rows.iterrows():
                    if row["lhs"] != last:
                        head = show(row["lhs"], sel)
                        head = (" " if head.startswith(".") else "  ") + head
                        out.append(("head", f"{head} {row['op']}", []))
                        last = row["lhs"]
                    name = show(row["rhs"], sel)
                    indent = 3 if name.startswith(".") else 4
                    out.append(
                        ("row", self._name(name, str(row["label"] or ""), indent),
                         self._cells(row, bool(free[i])))
                    )
            else:
                for i, row in rows.iterrows():
                    name = show(row["lhs"], sel)
                    if sel == "|":  # a threshold is named as lavaan prints it, x1|t1
                        name = f"{name}|{row['rhs']}"
                    indent = 3 if name.startswith(".") else 4
                    out.append(
                        ("row", self._name(name, str(row["label"] or ""), indent),
                         self._cells(row, bool(free[i])))
                    )
            blocks.append(_Block(title, out))
        return blocks

    def _global_blocks(self) -> list[_Block]:
        """Defined parameters and constraints (shown once, after the groups)."""
        fit = self.fit
        est = self._estimates()
        n_par = len(fit.partable.params)
        blocks: list[_Block] = []
        defined = est.iloc[n_par:]
        defined = defined[defined["op"] == ":="]
        if not defined.empty:
            rows = [
                ("row", self._name(str(r["lhs"]), "", 4), self._cells(r, True))
                for _, r in defined.iterrows()
            ]
            blocks.append(_Block("Defined Parameters", rows))
        cons = [c for c in fit.partable.constraints if c.op in ("==", "<", ">")]
        if cons:
            slack = self._slack(cons)
            rows = [
                ("row", f"    {c.lhs} - ({c.rhs})", [abs(s)])
                for c, s in zip(cons, slack, strict=True)
            ]
            blocks.append(_Block("Constraints", rows))
        return blocks

    def _slack(self, cons: list[Any]) -> list[float]:
        """``lhs - rhs`` of each constraint at the estimates (0 when it holds)."""
        try:
            from semnet.estimation.constraints import ParameterNames
            from semnet.syntax import parse_expression

            env = ParameterNames(self.fit.partable).env(np.asarray(self.fit.values))
            out = []
            for c in cons:
                lhs = parse_expression(c.lhs, c.line, c.column).evaluate(env)
                rhs = parse_expression(c.rhs, c.line, c.column).evaluate(env)
                out.append(float(lhs - rhs))
            return out
        except Exception:  # a display helper must never break printing
            return [float("nan")] * len(cons)

    def _render_blocks(self, blocks: list[_Block], cols: list[str], widths: list[int],
                       name_w: int) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            heads = cols if block.title != "Constraints" else []
            rows = block.text_rows(cols)
            lines.append(f"{block.title}:")
            if block.title == "Constraints":
                lines.append(" " * (name_w + sum(widths[:4]) - 8) + " |Slack|")
                for _, name, cells in rows:
                    text = name.ljust(name_w + sum(widths[:4]) - len(cells[0]))
                    lines.append(text + cells[0])
                lines.append("")
                continue
            header = " " * name_w + "".join(
                h.rjust(w) for h, w in zip(heads, widths, strict=True)
            )
            lines.append(header)
            for kind, name, cells in rows:
                if kind == "head":
                    lines.append(name)
                    continue
                text = name.ljust(name_w) + "".join(
                    c.rjust(w) for c, w in zip(cells, widths, strict=True)
                )
                lines.append(text.rstrip())
            lines.append("")
        return lines

    def _estimates_text(self) -> list[str]:
        fit = self.fit
        cols = self._columns()
        per_group = [self._group_blocks(gi) for gi in range(len(fit.groups))]
        global_blocks = self._global_blocks()
        every = [b for blocks in per_group for b in blocks] + [
            b for b in global_blocks if b.title != "Constraints"
        ]
        name_w = max([_NAME] + [len(n) for b in every for k, n, _ in b.rows if k == "row"])
        texts = [row for b in every for row in b.text_rows(cols) if row[0] == "row"]
        widths = []
        for j, col in enumerate(cols):
            longest = max([0] + [len(c[j]) for _, _, c in texts])
            widths.append(max(_NUM, longest + 2, len(col) + 1))
        lines = ["Parameter Estimates:", "", *self._estimates_info(), ""]
        several = len(fit.groups) > 1
        for gi, blocks in enumerate(per_group):
            if several:
                lines += ["", f"Group {gi + 1} [{fit.groups[gi]}]:", ""]
            lines += self._render_blocks(blocks, cols, widths, name_w)
        lines += self._render_blocks(global_blocks, cols, widths, name_w)
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    def _estimates_info(self) -> list[str]:
        """How the standard errors were computed (the lines under "Parameter Estimates")."""
        o = self.fit.options
        lines = [_line("Standard errors", _ESTIMATOR_NAMES.get(o.se, str(o.se).capitalize()))]
        boot = getattr(self.fit, "bootstrap", None)
        if boot is not None:
            return [
                *lines,
                _line("Number of requested bootstrap draws", str(boot.n)),
                _line("Number of successful bootstrap draws", str(boot.n_ok)),
            ]
        return [
            *lines,
            _line("Information", str(getattr(o, "information", "expected")).capitalize()),
            _line("Information saturated (h1) model", "Structured"),
        ]

    # -- warnings --------------------------------------------------------------------------
    def _warnings(self) -> list[str]:
        warns = list(getattr(self.fit, "warnings", ()) or ())
        if not warns:
            return []
        lines = ["Warnings:", ""]
        for w in warns:
            wrapped = textwrap.wrap(str(w), width=76, initial_indent="  - ",
                                    subsequent_indent="    ")
            lines.extend(wrapped)
        return lines


class LMSSummary(Summary):
    """lavaan-style text report of an LMS fit (:class:`~semnet.estimation.lms.LMSResult`).

    The model has no chi-square test (its indicators are not multivariate normal), so in
    place of lavaan's test blocks it reports the likelihood-ratio test of the product
    terms against the same model without them, and the log-likelihood with the
    information criteria.  The parameter sections are those of :class:`Summary`, with
    the product terms as regressions on ``x:z``.

    Examples
    --------
    >>> import semnet
    >>> data = semnet.simulate('''X =~ x1 + x2 + x3
    ...                          Z =~ z1 + z2 + z3
    ...                          Y =~ y1 + y2 + y3
    ...                          Y ~ 0.4*X + 0.3*Z + 0.25*X:Z''', 500, seed=1)
    >>> fit = semnet.sem('''X =~ x1 + x2 + x3
    ...                     Z =~ z1 + z2 + z3
    ...                     Y =~ y1 + y2 + y3
    ...                     Y ~ X + Z + X:Z''', data)  # doctest: +SKIP
    >>> print(fit.summary())  # doctest: +SKIP
    """

    _user_test_title = "Likelihood Ratio Test of the Product Terms"

    def _optimizer(self) -> str:
        return "BFGS, then Newton-Raphson"

    def _header_items(self) -> list[tuple[str, str]]:
        fit = self.fit
        items = [
            ("Estimator", "ML (LMS)"),
            ("Optimization method", self._optimizer()),
            ("Quadrature", f"{fit.quadrature}, {fit.nodes} points"),
            ("Integrated latent variables", ", ".join(fit.dimensions)),
            ("Number of model parameters", str(int(fit.npar))),
        ]
        for label, (used, total) in self._nobs().items():
            name = "Number of observations" + (f" [{label}]" if label else "")
            items.append((name, f"{used} used of {total}" if used != total else str(used)))
        return items

    def _header(self) -> list[str]:
        lines = [f"semnet {self._version()} {self._status()}", ""]
        lines += [_line(label, value) for label, value in self._header_items()]
        return lines

    def _user_test_items(self, pvalue: Callable[[Any], str] = _num) -> list[tuple[str, str]]:
        lr = self.fit.lr_test()
        df = lr["df_diff"]
        return [
            ("Loglikelihood without the product terms", _num(lr["loglik_h0"])),
            ("Loglikelihood with the product terms", _num(lr["loglik_h1"])),
            ("Test statistic (2 x difference)", _num(lr["chisq_diff"])),
            ("Degrees of freedom", _integer(df)),
            ("P-value (Chi-square)", pvalue(lr["pvalue"]) if df > 0 else "NA"),
        ]

    def _user_test(self) -> list[str]:
        lines = [f"{self._user_test_title}:", ""]
        return lines + [_line(label, value) for label, value in self._user_test_items()]

    def _fit_measure_items(
        self, pvalue: Callable[[Any], str] = _num
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        fm = self._fm()
        return [
            (
                "Loglikelihood and Information Criteria",
                [
                    ("Loglikelihood user model", _num(fm["logl"])),
                    ("", ""),
                    ("Akaike (AIC)", _num(fm["aic"])),
                    ("Bayesian (BIC)", _num(fm["bic"])),
                    ("Sample-size adjusted Bayesian (SABIC)", _num(fm["bic2"])),
                ],
            )
        ]

    def _estimates_info(self) -> list[str]:
        se = self.fit.se
        return [
            _line("Standard errors", _ESTIMATOR_NAMES.get(se, se.capitalize())),
            _line("Information", "Observed (numerical Hessian)"),
        ]
