"""Where the downloadable inputs live: the Galaxy Zoo 2 files on Zenodo (with their md5), the
Hart et al. (2016) table and the Kaggle competition's files.

Standard library only: the workflow reads these while the Snakefile is parsed.
"""

from __future__ import annotations

ZENODO_RECORD = 3565489
ZENODO_URL = "https://zenodo.org/records/{record}/files/{name}?download=1"
GZ2_FILES: dict[str, str] = {  # name -> md5
    "images_gz2.zip": "bc647032d31e50c798770cf4430525c7",
    "gz2_filename_mapping.csv": "7e28465e6dfbf96c0d828c595a5bbd80",
}
HART16_URL = "https://gz2hart.s3.amazonaws.com/gz2_hart16.csv.gz"
HART16_CHECK = "gzip"  # no md5 is published: verified by size, gzip CRC and a recorded sha256
HART16_ODD = "t06_odd_a14_yes_fraction"
KAGGLE_COMPETITION = "galaxy-zoo-the-galaxy-challenge"
KAGGLE_FILES = ("images_training_rev1.zip", "training_solutions_rev1.zip")
KAGGLE_ODD = "Class6.1"


def zenodo_url(name: str, record: int = ZENODO_RECORD) -> str:
    """The download URL of file ``name`` of a Zenodo record (default: Galaxy Zoo 2's)."""
    return ZENODO_URL.format(record=record, name=name)
