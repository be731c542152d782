"""astroanom: personalised active anomaly detection for astronomical data.

The library behind the astroanom Snakemake workflow. It re-creates the method of the
Astronomaly papers (Lochner & Bassett 2021): features -> anomaly score -> human (or simulated)
relevance labels -> random-forest relevance regressor -> active-learning score.
"""

__version__ = "0.1.0"
