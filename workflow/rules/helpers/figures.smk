# Helpers of rules/figures.smk (input functions, parameters, names).
def class_ids(w):
    return ds(w)["truth"]["anomaly_classes"]
