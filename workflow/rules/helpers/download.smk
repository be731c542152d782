# Helpers of rules/download.smk (input functions, parameters, names).
from astroanom.sources.remote_files import GZ2_FILES, HART16_URL, zenodo_url


wildcard_constraints:
    res=r"resources(/[A-Za-z0-9_.-]+)*",
