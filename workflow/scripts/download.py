"""Snakemake adapter: download rules -> astroanom.download.fetch (resumable, checked, atomic)."""

from astroanom.download import fetch
from astroanom.runtime import configure

configure(snakemake.log[0], 1)
fetch(snakemake.params.url, snakemake.output[0], md5=snakemake.params.md5)
