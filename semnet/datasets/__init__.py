"""Example data sets bundled with semnet (the classic lavaan examples).

Both are distributed with the lavaan R package and used throughout its documentation,
so every semnet example can be checked against lavaan.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def holzinger_swineford() -> pd.DataFrame:
    """Holzinger & Swineford (1939): mental ability tests of 301 children in two schools.

    Columns ``id, sex, ageyr, agemo, school, grade, x1 ... x9``; ``school`` is
    ``"Pasteur"`` or ``"Grant-White"``.

    Examples
    --------
    >>> from semnet import datasets
    >>> datasets.holzinger_swineford().shape
    (301, 15)
    """
    return _read("HolzingerSwineford1939.csv")


def political_democracy() -> pd.DataFrame:
    """Bollen (1989): industrialization and political democracy in 75 developing countries.

    Columns ``y1 ... y8`` (democracy indicators 1960 and 1965) and ``x1 ... x3``
    (industrialization 1960).

    Examples
    --------
    >>> from semnet import datasets
    >>> datasets.political_democracy().shape
    (75, 11)
    """
    return _read("PoliticalDemocracy.csv")
