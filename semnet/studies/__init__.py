"""Study pipelines built on semnet (see ``docs/study.md``).

Examples
--------
>>> import semnet
>>> semnet.studies.network_involvement.GROUP
'country'
"""

from semnet.studies import network_involvement

__all__ = ["network_involvement"]
