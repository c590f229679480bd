"""The checks that the ordinal fixture tests (tests/api/test_ordinal_*.py) share: semnet's
parameter table, estimates and standard errors against a lavaan ``parTable()``."""

import numpy as np
import pandas as pd
from tolerances import EST_RTOL, ORDINAL_ATOL, SE_RTOL


def lavaan_rows(r: dict) -> pd.DataFrame:
    """lavaan's parameter table of a fixture case without its ``==`` rows."""
    pt = pd.DataFrame(r["partable"])
    return pt[pt["op"] != "=="].reset_index(drop=True)


def assert_table_estimates_and_se(fit, r: dict) -> None:
    """Rows, free pattern, estimates and standard errors equal lavaan's."""
    ref = lavaan_rows(r)
    ours = fit.partable.params
    assert ours[["lhs", "op", "rhs"]].to_numpy().tolist() == (
        ref[["lhs", "op", "rhs"]].fillna("").to_numpy().tolist()
    )
    assert (ours["free"].to_numpy() > 0).tolist() == (ref["free"].to_numpy() > 0).tolist()
    np.testing.assert_allclose(fit.values, ref["est"], rtol=EST_RTOL, atol=ORDINAL_ATOL)
    se = fit.estimates()["se"].to_numpy()
    np.testing.assert_allclose(se, ref["se"], rtol=SE_RTOL, atol=ORDINAL_ATOL)
