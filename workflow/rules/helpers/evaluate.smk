# Helpers of rules/evaluate.smk (input functions, parameters, names).
def rounds_input(wildcards):
    return [rd(wildcards).rounds] if simulated(run_of(wildcards).name) else []
