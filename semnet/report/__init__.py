"""Reports of fitted models, and the one table engine behind every report.

:class:`Summary` is the lavaan-style text report behind :meth:`semnet.Fit.summary`;
it formats the fit's own results and never re-estimates anything.  :class:`Table`
(:mod:`semnet.report.tables`) renders a DataFrame as plain text, Markdown, LaTeX, HTML
or CSV; :mod:`semnet.report.format` holds the package's only number and p-value
formatters and text escapes.

Examples
--------
>>> import semnet
>>> fit = semnet.cfa("visual =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
>>> from semnet.report import Summary
>>> "Latent Variables:" in str(Summary(fit, standardized=True))
True
"""

from semnet.report.summary import Summary
from semnet.report.tables import Column, Table

__all__ = ["Column", "Summary", "Table"]
