# Helpers of rules/active.smk (input functions, parameters, names).


def human_labels(wildcards):
    """Input of active_retrain in human mode: the label file once it exists. Before the first
    label there is none and S^ = S; creating or changing it reruns only what depends on it.
    """
    if ds(wildcards)["oracle"]["mode"] == "human":
        path = labels_file(wildcards.run)
        if os.path.exists(path):
            return [path]
    return []


def truth_input(wildcards):
    return [rd(wildcards).truth] if "truth" in ds(wildcards) else []


def known_input(wildcards):
    """The dataset's known-examples CSV (`known.path`) when it gives one: a change reruns the
    retrain and the loop (inline `known.ids` are a parameter, so a change reruns them too).
    """
    from astroanom.sources.paths import data_path

    path = (ds(wildcards).get("known") or {}).get("path")
    return [str(data_path(path))] if path else []
