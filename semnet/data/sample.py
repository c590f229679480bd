"""The sample a fit is made from: one :class:`Sample` per fit, built by :func:`sample`.

The data layer owns everything the estimators read from the data: the groups and
their labels, the cases and per-group moments, the missing-data patterns and the
saturated model of incomplete data (FIML), and a fingerprint of the numbers.  Later
sample statistics (sampling weights, clusters, ordinal thresholds and polychoric
correlations) are further fields of the same object.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semnet._pandas import column_dtypes
from semnet.data.design import fiml_blocks, read_clusters, read_weights, weighted_moments
from semnet.data.missing import (
    CovariateDeletion,
    FIMLData,
    PatternSet,
    covariate_deletion,
    em_moments,
    fiml_data,
    missing_patterns,
    observed_moments,
)
from semnet.data.moments import (
    GroupMoments,
    NumericData,
    group_labels,
    moments_from_data,
    moments_from_stats,
    numeric_data,
    validate_frame,
)
from semnet.data.ordinal import Polychoric, item_codes, polychoric
from semnet.data.survey import SurveyDesign, survey_moments
from semnet.errors import DataError, warn


@dataclass(frozen=True, eq=False)
class Sample:
    """What a fit knows of its data.

    Attributes
    ----------
    moments : tuple of GroupMoments
        Per group: label, variable names, covariance (divisor N) and mean, cases used and
        dropped, and the cases themselves when raw data were given.  With incomplete data
        the covariance and mean are the saturated model's (EM) estimates.
    group : str or None
        The grouping column.
    fiml : FIMLData or None
        Missing-data patterns and the saturated and independence models of incomplete
        data (``missing="fiml"``); ``None`` for complete data.
    fingerprint : str or None
        SHA-256 of summary statistics given instead of data; ``None`` for raw data, whose
        rows are hashed on demand (:func:`semnet.data.moments.data_fingerprint`).
    design : tuple of (str or None, str, str or None)
        The sampling-weights column, its normalisation and the cluster column
        (:mod:`semnet.data.design`); the weights and cluster codes are in ``moments``.
    survey : tuple of (SurveyDesign, tuple of ndarray) or None
        A complex design and, per group, the design effects of ``(mean, vech(cov))``
        (:mod:`semnet.data.survey`); the design-based Γ is in ``moments``.
    ordinal : tuple of Polychoric or None
        Per group, the thresholds, polychoric correlations and their asymptotic
        covariance ``gamma`` of ordinal items (:func:`semnet.polychoric`); the
        ``moments`` then hold the polychoric correlations as ``cov``, zero means and
        the cases' category numbers as ``data``.

    Examples
    --------
    >>> import semnet
    >>> from semnet.data.sample import sample
    >>> s = sample(semnet.datasets.holzinger_swineford(), ["x1", "x2", "x3"], group="school")
    >>> s.labels, s.ntotal
    (('Pasteur', 'Grant-White'), 301)
    """

    moments: tuple[GroupMoments, ...]
    group: str | None = None
    fiml: FIMLData | None = None
    fingerprint: str | None = None
    design: tuple[str | None, str, str | None] = (None, "total", None)
    survey: tuple[SurveyDesign, tuple[np.ndarray, ...]] | None = None
    ordinal: tuple[Polychoric, ...] | None = None

    @property
    def weights(self) -> tuple[np.ndarray, ...] | None:
        """The cases' sampling weights per group (normalised), else ``None``."""
        return None if self.design[0] is None else tuple(m.weights for m in self.moments)

    @property
    def designed(self) -> bool:
        """The cases carry sampling weights or clusters (the closed forms of the
        baseline model's robust tests, which assume neither, do not apply)."""
        return self.design[0] is not None or self.design[2] is not None or bool(self.survey)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(m.label for m in self.moments)

    @property
    def nobs(self) -> dict[str, int]:
        return {m.label: m.nobs for m in self.moments}

    @property
    def ntotal(self) -> int:
        return sum(m.nobs for m in self.moments)

    @property
    def n_dropped(self) -> int:
        return sum(m.n_dropped for m in self.moments)

    @property
    def patterns(self) -> tuple[PatternSet, ...] | None:
        """Missing-data patterns per group (incomplete data), else ``None``."""
        return None if self.fiml is None else self.fiml.patterns

    @property
    def logl_h1(self) -> float:
        """Log-likelihood of the saturated model of incomplete data (0 for complete data)."""
        return 0.0 if self.fiml is None else float(self.fiml.logl_h1.sum())


def labels_of(
    data: Any, group: str | None, sample_cov: Any = None, summary: Any = None
) -> list[str]:
    """Group labels in order of first appearance (``[""]`` for one group)."""
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            validate_frame(data, [], None)
        if group is not None and group not in data.columns:
            validate_frame(data, [], group)
        return group_labels(data, group) if group is not None else [""]
    if summary is not None:
        return list(summary.groups)
    if isinstance(sample_cov, dict):
        return [str(k) for k in sample_cov]
    return [""]


def sample(
    data: Any,
    names: Sequence[str],
    group: str | None = None,
    labels: Sequence[str] | None = None,
    *,
    fiml: bool = False,
    summary: Any = None,
    sample_cov: Any = None,
    sample_mean: Any = None,
    sample_nobs: Any = None,
    meanstructure: bool = False,
    design: tuple[str | None, str, str | None] = (None, "total", None),
    survey: SurveyDesign | None = None,
    ordered: Sequence[str] = (),
    missing: str = "listwise",
    covariates: Sequence[str] = (),
    keep_missing_covariates: bool = False,
    random_covariates: Sequence[str] = (),
) -> Sample:
    """The sample of the variables ``names`` from raw data, from moments computed out of
    core (``summary``, a :class:`semnet.moments.SampleMoments`), or from summary
    statistics (``sample_cov``, ``sample_mean``, ``sample_nobs``).

    Parameters
    ----------
    data : DataFrame or None
        Raw data (never modified).
    names : sequence of str
        The model's observed variables, in the model's order.
    group : str, optional
        Grouping column.
    labels : sequence of str, optional
        Group labels (default: found in the data).
    fiml : bool
        Keep incomplete cases, with their missing-data patterns and the saturated model
        (``missing="fiml"``); otherwise rows with a missing value are dropped.
    meanstructure : bool
        The model has a mean structure (summary statistics then need ``sample_mean``).
    design : tuple of (str or None, str, str or None)
        Sampling-weights column, its normalisation and cluster column
        (:mod:`semnet.data.design`); raw complete data only.
    survey : SurveyDesign, optional
        A complex design: design-based moments and their Γ (:mod:`semnet.data.survey`).
    ordered : sequence of str
        The ordinal items among ``names``: the sample holds their thresholds and the
        polychoric (polyserial, Pearson) correlations (:attr:`Sample.ordinal`).
    missing : {"listwise", "pairwise"}
        With ordinal items: complete cases, or each statistic from the cases observed
        on its variables.
    covariates : sequence of str
        The ``fixed.x`` covariates among ``names``.  With ``fiml`` a case missing on one
        of them is deleted (lavaan's ``missing = "ml"``; counted in ``n_dropped`` and
        reported in ``fiml.deleted``), unless ``keep_missing_covariates`` (lavaan's
        ``missing = "ml.x"``).
    random_covariates : sequence of str
        The exogenous covariates modelled as random (``fixed.x = FALSE``): with ``fiml``
        the baseline model saturates their block.

    Returns
    -------
    Sample
    """
    if labels is None:
        labels = labels_of(data, group, sample_cov, summary)
    if ordered:
        if survey is not None or design[0] is not None or design[2] is not None:
            raise DataError(
                "sampling weights, clusters and survey designs with ordinal items are not "
                "available yet; fit the ordinal items without them, or treat the items as "
                "continuous (leave ordered= out) with estimator='MLR'."
            )
        return ordinal_sample(data, list(names), group, labels, ordered, missing)
    if survey is not None:
        if fiml or not isinstance(data, pd.DataFrame):
            raise DataError("survey= needs complete raw data as a DataFrame (missing='listwise').")
        checked = numeric_data(data, names, group)
        moments, deff = survey_moments(data, checked, labels, survey)
        digest = hashlib.sha256(repr(survey).encode())
        for m in moments:
            digest.update(m.cov.tobytes() + m.mean.tobytes() + m.gamma.tobytes())
        return Sample(tuple(moments), group, fingerprint=digest.hexdigest(),
                      survey=(survey, tuple(deff)))  # fmt: skip
    x = tuple(covariates) if fiml else ()
    drop_x = () if keep_missing_covariates else x
    rx = [list(names).index(v) for v in random_covariates]
    if design[0] is not None or design[2] is not None:
        return _design_sample(data, names, group, labels, fiml, design, x, drop_x, rx)
    if fiml:
        if data is None:
            raise DataError("missing='fiml' needs the raw data; sample statistics are complete.")
        checked, _, deleted = _without_missing_covariates(
            numeric_data(data, names, group), labels, drop_x)  # fmt: skip
        blocks = [
            (lab, checked.values if group is None else checked.values[checked.groups == lab])
            for lab in labels
        ]
        fdata = fiml_data(blocks, names, x_index=[list(names).index(v) for v in x],
                          random_x_index=rx)
        return _fiml_sample(fdata, group, deleted, design)
    if data is not None:
        return Sample(tuple(moments_from_data(numeric_data(data, names, group), labels)), group)
    if summary is not None:
        return Sample(tuple(summary.group_moments(names)), group, fingerprint=summary.fingerprint)
    if meanstructure and sample_mean is None:
        raise DataError(
            "the model has a mean structure; pass sample_mean together with sample_cov."
        )
    moments = moments_from_stats(sample_cov, sample_mean, sample_nobs, names, labels)
    fingerprint = hashlib.sha256(
        b"".join(m.cov.tobytes() + m.mean.tobytes() for m in moments)
    ).hexdigest()
    return Sample(tuple(moments), group, fingerprint=fingerprint)


def _without_missing_covariates(
    checked: NumericData, labels: Sequence[str], covariates: Sequence[str]
) -> tuple[NumericData, np.ndarray | None, tuple[CovariateDeletion, ...]]:
    """The rows observed on every covariate (lavaan's deletion under ``fixed.x`` with
    ``missing = "ml"``), which rows those are (``None``: all) and what was deleted."""
    if not covariates:
        return checked, None, ()
    keep, deleted = covariate_deletion(
        checked.values, checked.groups, labels, checked.names, covariates
    )
    for d in deleted:
        left = int(keep.sum() if checked.groups is None else keep[checked.groups == d.label].sum())
        if left < 2:
            where = f" in group {d.label!r}" if d.label else ""
            which = ", ".join(f"{v} {c}" for v, c in d.missing)
            raise DataError(
                f"{left} case(s){where} are observed on every fixed.x covariate (missing: "
                f"{which}); FIML with fixed.x covariates deletes the others, as lavaan's "
                "missing='ml'. Pass missing='fiml.x' to keep them, fixed_x=False to model "
                "the covariates, or drop the covariate."
            )
    if keep.all():
        return checked, None, deleted
    values = checked.values[keep]
    values.setflags(write=False)
    groups = None if checked.groups is None else checked.groups[keep]
    return NumericData(values, checked.names, groups, checked.index[keep]), keep, deleted


def _fiml_sample(
    fdata: FIMLData, group: str | None, deleted: tuple[CovariateDeletion, ...],
    design: tuple[str | None, str, str | None] = (None, "total", None),
) -> Sample:
    """The sample of a FIML fit, the cases deleted for a missing covariate counted
    among each group's dropped rows."""
    if deleted:
        moments = tuple(
            dataclasses.replace(m, n_dropped=m.n_dropped + d.n)
            for m, d in zip(fdata.moments, deleted, strict=True)
        )
        fdata = dataclasses.replace(fdata, moments=moments, deleted=deleted)
    return Sample(fdata.moments, group, fiml=fdata, design=design)


def _design_sample(
    data: Any, names: Sequence[str], group: str | None, labels: Sequence[str], fiml: bool,
    design: tuple[str | None, str, str | None], x: Sequence[str] = (),
    drop_x: Sequence[str] = (), random_x: Sequence[int] = (),
) -> Sample:
    """The sample of raw data with sampling weights and/or clusters (with FIML, the
    ``fixed.x`` covariates ``x``, cases missing on one of ``drop_x`` deleted first, and
    the positions ``random_x`` of the random covariates)."""
    weights, normalization, cluster = design
    what = "sampling_weights" if weights is not None else "cluster"
    if data is None or not isinstance(data, pd.DataFrame):
        raise DataError(f"{what}= needs the raw data as a DataFrame, not summary statistics.")
    checked = numeric_data(data, names, group)
    w = None if weights is None else read_weights(data, weights, names)
    codes = None if cluster is None else read_clusters(data, cluster, names, checked.groups)
    if fiml:
        checked, keep, deleted = _without_missing_covariates(checked, labels, drop_x)
        if keep is not None:
            w = None if w is None else w[keep]
            codes = None if codes is None else codes[keep]
        blocks, wblocks, cblocks = fiml_blocks(checked, labels, w, codes, normalization)
        fdata = fiml_data(blocks, names, wblocks, [list(names).index(v) for v in x], random_x)
        if cblocks is not None:
            fdata = dataclasses.replace(fdata, moments=tuple(
                dataclasses.replace(m, clusters=c) for m, c in zip(fdata.moments, cblocks,
                                                                   strict=True)))  # fmt: skip
        return _fiml_sample(fdata, group, deleted, design)
    moments = weighted_moments(
        moments_from_data(checked, labels), checked, w, codes, normalization
    )
    return Sample(tuple(moments), group, design=design)


def ordered_items(data: Any, ordered: Any, observed: Sequence[str]) -> tuple[str, ...]:
    """The ordinal items among the model's ``observed`` variables: those named in
    ``ordered`` (``True``: all of them), and every ordered pandas Categorical column.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": pd.Categorical([1, 2], ordered=True), "b": [1.0, 2.0]})
    >>> ordered_items(df, None, ["a", "b"])
    ('a',)
    """
    if ordered is True:
        return tuple(observed)
    if ordered is None or ordered is False:
        named: tuple[str, ...] = ()
    else:
        named = (ordered,) if isinstance(ordered, str) else tuple(ordered)
    unknown = [n for n in named if n not in observed]
    if unknown and isinstance(data, pd.DataFrame):
        # as lavaan: other columns of the data are ignored (a list of every item of a
        # questionnaire serves each of its models); a name that is no column is warned of
        absent = [n for n in unknown if n not in data.columns]
        if absent:
            warn(
                f"ordered= names {', '.join(map(repr, absent))}, which is not a column of "
                f"the data (nor a variable of the model: {', '.join(observed)}); ignored."
            )
    if isinstance(data, pd.DataFrame):
        # the dtypes first: the column labels are read only where a column is ordered
        ordinal = [
            k for k, dtype in enumerate(column_dtypes(data))
            if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
        ]  # fmt: skip
        if ordinal or named:
            wanted = set(observed)
            categorical = {c for c in (data.columns[k] for k in ordinal) if c in wanted}
            named = tuple(n for n in observed if n in named or n in categorical)
    return named


def threshold_counts(data: Any, ordered: Sequence[str]) -> dict[str, int]:
    """The number of thresholds of each ordinal item: its observed categories less one
    (in the whole data)."""
    if not ordered:
        return {}
    if not isinstance(data, pd.DataFrame):
        raise DataError("ordinal items need the raw data (a DataFrame), not summary statistics.")
    missing = [n for n in ordered if n not in data.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(map(repr, missing))} are not in the data.")
    counts = {}
    for n in ordered:
        codes = item_codes(data[n], n)
        counts[n] = int(np.nanmax(codes)) if np.isfinite(codes).any() else 0
    return counts


def ordinal_sample(
    data: Any, names: Sequence[str], group: str | None, labels: Sequence[str],
    ordered: Sequence[str], missing: str = "listwise",
) -> Sample:
    """The sample of the observed variables ``names``, the ordinal ones in ``ordered``:
    per group the thresholds, the continuous variables' means and variances, the
    correlations and the asymptotic covariance of them all (:func:`semnet.polychoric`),
    from complete cases (``missing="listwise"``) or pairwise (``"pairwise"``).  The
    moments hold the correlations rescaled to covariances by the continuous variables'
    standard deviations (items have unit variance), the continuous variables' means
    (zero for items), and the cases (items as category numbers)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("ordinal items need the raw data (a DataFrame), not summary statistics.")
    validate_frame(data, [], group)
    continuous = [n for n in names if n not in ordered]
    numeric_data(data, continuous, None)
    columns = [*names, group] if group is not None else list(names)
    stats = polychoric(data[columns], ordered=list(ordered), group=group, missing=missing)
    per_group = stats if isinstance(stats, dict) else {"": stats}
    values = np.column_stack([
        item_codes(data[n], n) if n in ordered
        else pd.to_numeric(data[n]).to_numpy(dtype=float, na_value=np.nan) for n in names
    ])  # fmt: skip
    seen = ~np.isnan(values)
    kept = seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)
    text = None if group is None else np.array([str(v) for v in data[group].to_numpy()])
    moments = []
    for label in labels:
        rows = kept if text is None else kept & (text == label)
        in_group = len(rows) if text is None else int((text == label).sum())
        pc = per_group[label]
        sd = np.ones(len(names))
        mean = np.zeros(len(names))
        where = [names.index(n) for n in pc.variances.index]
        sd[where] = np.sqrt(pc.variances.to_numpy())
        mean[where] = pc.means.to_numpy()
        moments.append(GroupMoments(
            label, tuple(names), pc.cor.to_numpy() * sd[:, None] * sd[None, :], mean,
            pc.nobs, in_group - pc.nobs, values[rows],
        ))  # fmt: skip
    return Sample(
        tuple(moments), group, ordinal=tuple(per_group[label] for label in labels)
    )


def baseline_values(sample: Sample, g: int, k: int, op: str, j: int | None = None) -> float:
    """The independence model's estimate of variable ``k``'s variance (``op`` ``"~~"``)
    or mean (``"~1"``) in group ``g``: the sample moment, or with incomplete data the
    variable's own mean and variance over its observed values; with ``j`` the covariance
    of ``k`` and ``j`` (of two random covariates, whose block the model saturates).
    With incomplete data the (co)variances of ``fixed.x`` covariates are lavaan's sample
    covariances of the covariates (``FIMLData.x_cov``), at which the model fixes them,
    and the moments of random covariates the maximum-likelihood estimates of their block
    (``FIMLData.random_x_cov``, ``random_x_mean``)."""
    fiml = sample.fiml
    if fiml is not None and op == "~~" and k in fiml.x_index and j in fiml.x_index:
        return float(fiml.x_cov[g][fiml.x_index.index(k), fiml.x_index.index(j)])
    if fiml is not None and k in fiml.random_x_index:
        at = fiml.random_x_index.index(k)
        if op == "~1":
            return float(fiml.random_x_mean[g][at])
        other = at if j is None else fiml.random_x_index.index(j)
        return float(fiml.random_x_cov[g][at, other])
    if j is not None and j != k:
        return float(sample.moments[g].cov[k, j])
    if sample.fiml is None:
        mom = sample.moments[g]
        return float(mom.cov[k, k] if op == "~~" else mom.mean[k])
    source = sample.fiml.baseline_var if op == "~~" else sample.fiml.baseline_mean
    return float(np.asarray(source[g])[k])


def _covariate_moments(
    x: np.ndarray, w: np.ndarray | None, pats: PatternSet, cov: np.ndarray, mean: np.ndarray,
    covariates: list[int],
) -> tuple[np.ndarray, np.ndarray]:
    """``cov`` and ``mean`` of a resample of incomplete data with the moments of its
    ``fixed.x`` covariates (see :func:`resample`)."""
    if not covariates:
        return cov, mean
    block = x[:, covariates]
    if np.isnan(block).any():
        try:
            sigma, mu, _ = em_moments(pats, cov.copy(), mean.copy())
        except np.linalg.LinAlgError:
            raise DataError("the resample's unrestricted model cannot be estimated") from None
        return sigma, mu
    w = np.ones(len(x)) if w is None else w
    c = block - w @ block / w.sum()
    cov = cov.copy()
    cov[np.ix_(covariates, covariates)] = (c * w[:, None]).T @ c / w.sum()
    return cov, mean


def resample(
    labels: Sequence[str], names: Sequence[str], arrays: Sequence[np.ndarray], incomplete: bool,
    weights: Sequence[np.ndarray] | None = None, covariates: Sequence[int] = (),
) -> Sample:
    """The sample of resampled cases (one array per group, cases x variables, and their
    sampling ``weights``, kept as they are), as the bootstrap refits it: complete cases'
    moments, or with ``incomplete`` the missing-data patterns, whose saturated model is
    not fitted (its log-likelihood is 0, so the discrepancy gives the estimates but no
    chi-square).  Raises :class:`DataError` (with the reason) for a sample that cannot
    be fitted.

    With incomplete data the moments are each variable's mean and variance over its
    observed values, except for the ``fixed.x`` ``covariates`` (positions), whose moments
    a refit fixes: their sample covariances when they are complete, or with missing
    covariates (``missing="fiml.x"``) the EM estimates of all moments, as lavaan's
    refit of the resample takes them."""
    moments, patterns = [], []
    for g, (label, x) in enumerate(zip(labels, arrays, strict=True)):
        n = x.shape[0]
        w = None if weights is None else weights[g]
        if not incomplete and w is None:
            mean = x.mean(axis=0)
            c = x - mean
            cov = c.T @ c / n
            moments.append(GroupMoments(label, tuple(names), (cov + cov.T) / 2, mean, n))
            continue
        if not incomplete:
            mean = w @ x / w.sum()
            c = x - mean
            cov = (c * w[:, None]).T @ c / w.sum()
            moments.append(GroupMoments(label, tuple(names), (cov + cov.T) / 2, mean, n,
                                        data=x, weights=w))  # fmt: skip
            continue
        observed = (~np.isnan(x)).sum(axis=0)
        with np.errstate(all="ignore"):
            mean, var, _ = (
                (np.nanmean(x, axis=0), np.nanvar(x, axis=0), None) if w is None
                else observed_moments(x, w)
            )  # fmt: skip
        if observed.min() < 2 or not np.all(var > 0):
            raise DataError("too few observed values (a variable is constant or missing)")
        pats = missing_patterns(x, w)
        cov, mean = _covariate_moments(x, w, pats, np.diag(var), mean, list(covariates))
        moments.append(GroupMoments(label, tuple(names), cov, mean, n, 0, x, weights=w))
        patterns.append(pats)
    if not incomplete:
        return Sample(tuple(moments))
    zeros = np.zeros(len(moments))
    fiml = FIMLData(
        tuple(moments), tuple(patterns), zeros, zeros,
        tuple(m.mean for m in moments), tuple(np.diag(m.cov) for m in moments),
    )  # fmt: skip
    return Sample(tuple(moments), fiml=fiml)
