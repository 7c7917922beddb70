"""Project-wide test settings.

OMP_NUM_THREADS=1: on a 2-core machine scikit-learn's OpenMP threads made one fit 100x
slower when another process was busy. MLPROD_TODAY pins "today" so no test depends on the
calendar (release expiry, signoff age).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MLPROD_TODAY", "2026-11-27")
os.environ.setdefault("MPLBACKEND", "Agg")
