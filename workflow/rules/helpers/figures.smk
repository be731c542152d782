# Helpers of rules/figures.smk (input functions, parameters, names).
def first_run_file(name):
    """Input function: results/<first run of {dataset}>/<name>."""
    return lambda w: f"{RESULTS}/{first_run(w.dataset)}/{name}"


def sim_class_ids(w):
    return ds(w)["truth"]["anomaly_classes"]
