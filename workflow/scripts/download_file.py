"""Snakemake adapter: download rules -> astroanom.sources.download.fetch (resumable, checked, atomic)."""

from astroanom.runtime import configure
from astroanom.sources.download import fetch

configure(snakemake.log[0], 1)
fetch(snakemake.params.url, snakemake.output[0], md5=snakemake.params.md5)
