"""Study pipelines built on semnet (see ``docs/study.md`` and ``docs/studies/``).

:func:`list_studies` (also ``semnet.studies.list()``) and :func:`get` read the study
registry (:mod:`semnet.studies.registry`); each study runs with ``get(name).run(...)`` or
``semnet replicate NAME`` on the command line.

Examples
--------
>>> import semnet
>>> semnet.studies.network_involvement.GROUP
'country'
>>> semnet.studies.get("indirect-export").groups
('indirect', 'direct')
"""

from __future__ import annotations

from semnet.studies import network_involvement
from semnet.studies.registry import STUDIES, Study, get, list_studies, names


def list() -> list[Study]:
    """The registered studies (:func:`list_studies`).

    Examples
    --------
    >>> import semnet
    >>> semnet.studies.list()[0].name
    'network-involvement'
    """
    return list_studies()


#: ``list`` is left out so that ``from semnet.studies import *`` keeps the builtin
__all__ = ["STUDIES", "Study", "get", "list_studies", "names", "network_involvement"]
