"""Snakemake adapter: rules download_gz2, download_hart16 -> astroanom.sources.download.fetch."""

from astroanom.runtime import configure
from astroanom.sources.download import fetch

configure(snakemake.log[0], 1)
limits = snakemake.params.limits
fetch(
    snakemake.params.url,
    snakemake.output[0],
    md5=snakemake.params.md5,
    check=snakemake.params.check,
    timeout=limits["timeout_s"],
    deadline=limits["deadline_s"],
    retries=limits["retries"],
)
