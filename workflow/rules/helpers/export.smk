# Helpers of rules/export.smk.
def export_labels(wildcards):
    """Every user's label file of the run (a new label reruns the export)."""
    return [str(p) for p in rd(wildcards).label_files()]
