# Helpers of rules/active.smk (input functions, parameters, names).


def human_labels(wildcards):
    """Input of active_retrain in human mode: every selected user's label file of the run
    (labels/<run>/<user>.csv; labels.users, labels.exclude_users). Before the first label
    there is none and S^ = S; a new user's file, or a changed one, reruns only what depends
    on the labels."""
    if ds(wildcards)["oracle"]["mode"] == "human":
        return retrain_label_files(wildcards.run)
    return []


def retrain_labels_params(wildcards):
    """The labels settings a human-oracle retrain depends on (changing one reruns it; a
    simulated oracle depends on none, nor does anyone on labels.user)."""
    if ds(wildcards)["oracle"]["mode"] != "human":
        return {}
    keys = ("combine", "users", "exclude_users", "dispute_spread")
    return {k: config["labels"][k] for k in keys}


def truth_input(wildcards):
    return [rd(wildcards).truth] if "truth" in ds(wildcards) else []


def known_input(wildcards):
    """The dataset's known-examples CSV (`known.path`) when it gives one: a change reruns the
    retrain and the loop (inline `known.ids` are a parameter, so a change reruns them too).
    """
    from astroanom.sources.paths import data_path

    path = (ds(wildcards).get("known") or {}).get("path")
    return [str(data_path(path))] if path else []
