"""Rule library_sizes: every sample's library size (column sum) and TMM factor (edgeR calcNormFactors)."""

import numpy as np
import pandas as pd
from glmstack.gaussian.tmm import tmm_factors
from glmstack.io.files import read_json
from glmstack.io.shards import concat_npz
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    counts = concat_npz(smk.input.shards)["counts"]
    lib_size = counts.sum(axis=0)
    factors = tmm_factors(counts, lib_size)
    samples = read_json(smk.input.manifest)["samples"]
    write_tsv(smk.output[0], pd.DataFrame({"sample": samples, "lib_size": lib_size, "tmm_factor": factors}))
    log.info("%d samples; TMM factors from %.4g to %.4g", len(samples), np.min(factors), np.max(factors))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
