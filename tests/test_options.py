"""Checks of the fitting options where they enter (semnet/options.py)."""

from __future__ import annotations

import numpy as np
import pytest
from shared_models import HS_MODEL as HS

import semnet


def test_group_naming_several_columns_is_an_option_error(hs):
    # was a TypeError (unhashable list) from pandas
    with pytest.raises(semnet.OptionError, match="group must name one column, not a list"):
        semnet.cfa(HS, hs, group=["school", "sex"])


@pytest.mark.parametrize(("name", "value"), [("group_equal", 123), ("group_partial", ["x1~1", 3])])
def test_group_equal_and_partial_must_be_strings(hs, name, value):
    # 123 was a TypeError ('int' object is not iterable)
    with pytest.raises(semnet.OptionError, match=f"{name} must be a string or a list of strings"):
        semnet.cfa(HS, hs, group="school", **{name: value})


def test_group_equal_none_means_no_constraints(hs):
    # as semnet.partable(group_equal=None) and lavaan's empty group.equal
    none = semnet.cfa(HS, hs, group="school", group_equal=None)
    assert none.df == semnet.cfa(HS, hs, group="school").df
    assert none.options.group_equal == ()


@pytest.mark.parametrize("value", ["no", 1, "default"])
def test_meanstructure_must_be_a_switch(hs, value):
    # 'no' was taken as true without a word
    with pytest.raises(semnet.OptionError, match="meanstructure must be True, False or None"):
        semnet.cfa(HS, hs, meanstructure=value)


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True])
def test_a_seed_numpy_refuses_is_an_option_error(hs, seed):
    # were TypeError/ValueError from numpy.random.SeedSequence
    with pytest.raises(semnet.OptionError, match="seed must be a whole number >= 0"):
        semnet.cfa(HS, hs, bootstrap=3, seed=seed)


def test_numpy_integer_seed_is_accepted(hs):
    a = semnet.sem("x9 ~ x1", hs, bootstrap=3, seed=np.int64(4))
    b = semnet.sem("x9 ~ x1", hs, bootstrap=3, seed=4)
    assert np.array_equal(a.estimates()["se"], b.estimates()["se"])
