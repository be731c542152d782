# Helpers of rules/export.smk.
def export_labels(wildcards):
    """Every user's label file of the run (a new label reruns the export)."""
    return [str(p) for p in rd(wildcards).label_files()]


def export_catalogue(wildcards):
    """The cross-match catalogue of export.crossmatch (none: no input)."""
    xm = ds(wildcards)["export"]["crossmatch"]
    return [xm["path"]] if xm else []
