"""The data layer's incomplete-data statistics: the saturated model per group."""

from __future__ import annotations

import numpy as np
import pytest

import semnet

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.mark.parametrize("n", [3, 6])
def test_a_group_too_small_for_its_saturated_model_is_named(n):
    """Fewer cases than variables (with a missing value) leave the EM covariance
    singular: a DataError naming the group, not numpy's LinAlgError."""
    hs = semnet.datasets.holzinger_swineford()
    hs.loc[: n - 1, "school"] = "Small"
    hs.loc[1, "x4"] = np.nan
    with pytest.raises(semnet.DataError, match=r"group 'Small'.*more cases than variables"):
        semnet.cfa(MODEL, hs, group="school", missing="fiml")
