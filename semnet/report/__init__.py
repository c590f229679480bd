"""Reports of fitted models.

:class:`Summary` is the lavaan-style text report behind :meth:`semnet.Fit.summary`;
it formats the fit's own results and never re-estimates anything.

Examples
--------
>>> import semnet
>>> fit = semnet.cfa("visual =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
>>> from semnet.report import Summary
>>> "Latent Variables:" in str(Summary(fit, standardized=True))
True
"""

from semnet.report.summary import Summary

__all__ = ["Summary"]
