"""semnet: structural equation modeling for cross-national survey research.

Public API (see the README): :func:`sem`, :func:`cfa`, :func:`partable`, the result
object :class:`Fit`, and the error classes.
"""

from semnet import datasets, moments, studies
from semnet._version import __version__
from semnet.analyses.alignment import AlignmentResult, alignment
from semnet.analyses.bootstrap import BootstrapResult, bootstrap
from semnet.analyses.cmv import cfa_marker, harman, marker, ulmc
from semnet.analyses.compare import compare
from semnet.analyses.invariance import Cutoffs, InvarianceResult, compare_paths, invariance
from semnet.analyses.mediation import indirect_effects
from semnet.analyses.moderation import (
    johnson_neyman,
    moderation_by_groups,
    plot_simple_slopes,
    simple_slopes,
)
from semnet.analyses.power import PowerResult, power
from semnet.analyses.products import product_indicators
from semnet.analyses.reliability import fornell_larcker, htmt, reliability
from semnet.api import cfa, growth, sem
from semnet.data.ordinal import Polychoric, polychoric
from semnet.data.survey import SurveyDesign
from semnet.errors import (
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelSpecificationError,
    ModelSyntaxError,
    OptionError,
    SemnetError,
    SemnetWarning,
)
from semnet.estimation.lms import LMSResult, lms
from semnet.partable.build import ParTable
from semnet.partable.build import partable as _partable
from semnet.results.fit import Fit
from semnet.simulate import simulate


def partable(model: str, **options) -> "pandas.DataFrame":  # noqa: F821
    """lavaan's parameter table of ``model`` as a DataFrame (``lavaanify``).

    Accepts the options of :func:`semnet.partable.build.partable` (``groups``,
    ``meanstructure``, ``std_lv``, ``orthogonal``, ``fixed_x``, ``group_equal``,
    ``group_partial``).

    Examples
    --------
    >>> import semnet
    >>> semnet.partable("f =~ x1 + x2 + x3")[["lhs", "op", "rhs", "free"]].shape
    (7, 4)
    """
    return _partable(model, **options).to_frame()


__all__ = [
    "AlignmentResult",
    "BootstrapResult",
    "ConvergenceError",
    "Cutoffs",
    "DataError",
    "Fit",
    "IdentificationError",
    "InvarianceResult",
    "LMSResult",
    "ModelSpecificationError",
    "ModelSyntaxError",
    "OptionError",
    "ParTable",
    "Polychoric",
    "PowerResult",
    "SemnetError",
    "SemnetWarning",
    "SurveyDesign",
    "__version__",
    "alignment",
    "bootstrap",
    "cfa",
    "cfa_marker",
    "compare",
    "compare_paths",
    "datasets",
    "fornell_larcker",
    "growth",
    "harman",
    "htmt",
    "indirect_effects",
    "invariance",
    "johnson_neyman",
    "lms",
    "marker",
    "moderation_by_groups",
    "moments",
    "partable",
    "plot_simple_slopes",
    "polychoric",
    "power",
    "product_indicators",
    "reliability",
    "sem",
    "simple_slopes",
    "simulate",
    "studies",
    "ulmc",
]
