# Helpers of rules/sources.smk (input functions, parameters, names).
def source_params(wildcards):
    """The source config of a run with what the reader needs resolved: a simulation preset's
    class definitions, the downloaded files of Galaxy Zoo and Kaggle."""
    src = dict(ds(wildcards)["source"])
    if src["kind"] == "simulation":
        src["classes"] = config["simulation_presets"][src["preset"]]["classes"]
    elif src["kind"] in ("galaxy_zoo", "kaggle"):
        src.update(source_inputs(wildcards))
        src.pop("resources")
    return src


def source_inputs(wildcards):
    """Downloaded files a source reads (rules in download.smk)."""
    src = ds(wildcards)["source"]
    res = src.get("resources")
    if src["kind"] == "galaxy_zoo":
        return {
            "images": f"{res}/gz2/images",
            "mapping": f"{res}/gz2/gz2_filename_mapping.csv",
            "labels": f"{res}/gz2/gz2_hart16.csv.gz",
        }
    if src["kind"] == "kaggle":
        return {
            "images": f"{res}/kaggle/images_training_rev1",
            "solutions": f"{res}/kaggle/training_solutions_rev1.csv",
        }
    return {}
