"""Sampling weights and clusters read from the data (semnet/data/design.py)."""

from __future__ import annotations

import pytest
from shared_models import HS_MODEL as HS

import semnet


def test_a_single_cluster_is_a_clear_error(hs):
    # was a ZeroDivisionError in the cluster-robust meat (G / (G - 1) with G = 1)
    with pytest.raises(semnet.DataError, match=r"single cluster.*two clusters or more"):
        semnet.cfa(HS, hs.assign(c=1), cluster="c", estimator="MLR")


def test_a_single_cluster_in_one_group_is_named(hs):
    data = hs.assign(c=(hs["school"] == "Pasteur") * hs["id"])
    with pytest.raises(semnet.DataError, match="single cluster in group 'Grant-White'"):
        semnet.cfa(HS, data, group="school", cluster="c", estimator="MLR")


def test_two_clusters_are_enough(hs):
    fit = semnet.cfa(HS, hs.assign(c=hs["id"] % 2), cluster="c", estimator="MLR")
    assert fit.converged
