# Helpers of rules/download.smk (input functions, parameters, names).
wildcard_constraints:
    res=r"resources(/[A-Za-z0-9_.-]+)*",


from astroanom.sources.galaxy_zoo import HART16_URL


def gz2_md5(name):
    from astroanom.sources.galaxy_zoo import GZ2_FILES

    return GZ2_FILES.get(name)
