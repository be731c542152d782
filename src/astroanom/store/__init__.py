"""On-disk contract of a dataset directory, atomic I/O and the human label store."""
