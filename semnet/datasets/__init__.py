"""Example data sets bundled with semnet, and :func:`read` for survey files.

``holzinger_swineford`` and ``political_democracy`` are distributed with the lavaan R
package and used throughout its documentation, so every semnet example can be checked
against lavaan. ``network_involvement`` is the synthetic three-country survey of the
network-involvement study (``semnet replicate``; see ``sample_data/CODEBOOK.md``).
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import pandas as pd

from semnet.datasets._read import read

#: the repository root, when semnet runs from a source checkout
_CHECKOUT = Path(__file__).resolve().parents[2]


def _read(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def bundled_path(package: str, name: str, checkout_path: str) -> Traversable | None:
    """A file or folder shipped with semnet, or ``None`` when it is missing.

    A built install has it in ``package`` as ``name`` (``setup.py`` copies it there);
    a source checkout (an editable install, ``PYTHONPATH``) has it in the repository at
    ``checkout_path``, the one copy that is committed.

    Parameters
    ----------
    package : str
        The package it is shipped in, e.g. ``"semnet.datasets"``.
    name : str
        Its name there.
    checkout_path : str
        Its path relative to the repository root.

    Returns
    -------
    Traversable or None

    Examples
    --------
    >>> from semnet.datasets import bundled_path
    >>> bundled_path("semnet.datasets", "HolzingerSwineford1939.csv", "no/such/path").name
    'HolzingerSwineford1939.csv'
    """
    packaged = resources.files(package).joinpath(name)
    if packaged.is_file() or packaged.is_dir():
        return packaged
    if (_CHECKOUT / "pyproject.toml").is_file():
        local = _CHECKOUT / checkout_path
        if local.exists():
            return local
    return None


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


def network_involvement_path() -> Path:
    """Where the bundled synthetic survey of the network-involvement study is.

    Examples
    --------
    >>> from semnet import datasets
    >>> datasets.network_involvement_path().name
    'network_involvement.csv'
    """
    found = bundled_path("semnet.datasets", "network_involvement.csv",
                    "sample_data/network_involvement.csv")  # fmt: skip
    if found is None:
        from semnet.errors import DataError

        raise DataError(
            "the bundled survey network_involvement.csv is missing from this semnet "
            "install; reinstall semnet (pip install --force-reinstall semnet)."
        )
    return Path(str(found))


def network_involvement() -> pd.DataFrame:
    """The synthetic survey of the network-involvement study: 950 SMEs in three countries.

    Columns ``country`` (``"USA"``, ``"China"``, ``"Russia"``), the 20 seven-point items
    ``gm1 ... doi3`` (about 3% missing answers each) and the controls ``firm_size`` and
    ``firm_age``. The data are drawn from a documented population model
    (``sample_data/CODEBOOK.md``); they are not real survey answers.

    Examples
    --------
    >>> from semnet import datasets
    >>> datasets.network_involvement().shape
    (950, 23)
    """
    return pd.read_csv(network_involvement_path())


__all__ = [
    "holzinger_swineford",
    "network_involvement",
    "network_involvement_path",
    "political_democracy",
    "read",
]
