"""The public name of the one-pass sample moments: ``semnet.moments.from_frame``,
``semnet.moments.from_dask`` and :class:`SampleMoments`.

They live in the data layer, :mod:`semnet.data.out_of_core`; this module keeps the
public names users import.
"""

from semnet.data.out_of_core import SampleMoments, from_dask, from_frame

__all__ = ["SampleMoments", "from_dask", "from_frame"]
