# Human labels from the browser labeller (`astroanom label results/<dataset>`) flow back into
# the DAG: a dataset whose oracle has `mode: human` retrains on the label file named by the
# `labels` config section instead of simulated labels. Only that file is an extra input of
# `active_learning`, so editing it reruns active learning and what depends on it, nothing else.


def labels_cfg():
    return config.get("labels", {})


def human_mode(dataset):
    """Whether the dataset's oracle is a human (labels from the labeller's file)."""
    return dataset_settings(dataset)["oracle"].get("mode", "simulated") == "human"


def labels_file(dataset):
    """The label file of the configured user for a dataset below results/."""
    template = labels_cfg().get("path", "labels/{dataset}/{user}.csv")
    return template.format(dataset=dataset, user=labels_cfg().get("user", "default"))


def human_labels(wildcards):
    """Input function of active_learning: the label file in human mode once it exists.

    Before the first label there is no file; active learning then keeps S (and says so in its
    log). Creating or changing the file reruns it.
    """
    if human_mode(wildcards.dataset):
        path = labels_file(wildcards.dataset)
        if os.path.exists(path):
            return [path]
    return []


def human_labels_param(wildcards):
    """The label file the active_learning step reads in human mode (None otherwise)."""
    return labels_file(wildcards.dataset) if human_mode(wildcards.dataset) else None
