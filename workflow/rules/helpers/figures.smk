# Helpers of rules/figures.smk (input functions, parameters, names).
import re


def class_ids(w):
    return ds(w)["truth"]["anomaly_classes"]


#: The overview figures of the `figures` rule; stem -> (caption, report category); Fig. 5 with truth.
OVERVIEW = {
    "top": ("top", "Datasets"),
    "scores": ("scores", "Datasets"),
    "map": ("map", "Datasets"),
}
FIG5 = {"fig5_recall_rws": ("gal_fig5", "Evaluation")}


def overview_inputs(truth):
    """Inputs of the figures rule (with truth, also those of Fig. 5)."""
    out = {
        "features": RUN.features,
        "objects": RUN.objects,
        "active": RUN.active,
        "info": RUN.dataset_json,
        "embedding": RUN.embedding,
    }
    if truth:
        out |= {"curves": RUN.recall_curves, "truth": RUN.truth}
    return out


def overview_outputs(truth):
    """Outputs of the figures rule; the ranked table and <stem>_png / <stem>_pdf of each figure."""
    out = {"ranked": RUN.ranked}
    for stem, (caption, category) in (OVERVIEW | (FIG5 if truth else {})).items():
        paths = figure(RUN, stem, caption, category)
        out |= {f"{stem}_png": paths["png"], f"{stem}_pdf": paths["pdf"]}
    return out


def truth_runs_regex(truth):
    """Wildcard constraint matching exactly the runs of datasets with (or without) truth."""
    paths = [
        r.path
        for name in config["datasets"]
        for r in acfg.runs(config, name)
        if has_truth(name) == truth
    ]
    return "(?:" + "|".join(re.escape(p) for p in paths) + ")"
