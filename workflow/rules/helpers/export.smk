# Helpers of rules/export.smk.
from astroanom.pipeline.export import user_label_files


def export_labels(wildcards):
    """Every user's label file of the run (a new label reruns the export)."""
    lab = labels_file(wildcards.run)
    return [str(p) for p in user_label_files(os.path.dirname(lab))]
