"""astroanom: personalised active anomaly detection for astronomical data.

The library behind the astroanom Snakemake workflow. It re-creates the method of the
Astronomaly papers (Lochner & Bassett 2021): features -> anomaly score -> human (or simulated)
relevance labels -> random-forest relevance regressor -> active-learning score.
"""

__version__ = "0.1.0"

import os as _os

# OpenMP reads its wait policy once, when its runtime loads (e.g. with scikit-learn), so it is set
# here, before any of the library's modules import one: idle OpenMP threads sleep instead of
# spinning, which on a shared, loaded machine otherwise multiplies run times. A value the user
# set is kept. Thread counts are bounded later by astroanom.runtime.limit_threads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
