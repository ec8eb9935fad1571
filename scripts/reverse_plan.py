"""Rule reverse_plan: the Freedman-Lane permutation plan of a reverse analysis (and, for counts,
the study-wide transform), made once for every shard."""

import numpy as np
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.samples import aligned_samples
from glmstack.logs import log_to
from glmstack.reverse import steps
from glmstack.reverse.transform import transform_summary
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, manifest = Analysis.from_params(smk.params.analysis), read_json(smk.input.manifest)
    trait, covariates = steps.trait_and_covariates(aligned_samples(smk.input.samples, manifest["samples"]), analysis)
    plan = steps.plan_step(trait, covariates.matrix, analysis.permutations, analysis.seed)
    arrays = {"gene_id": np.array([], dtype=str), **plan.arrays()}  # the plan holds no feature
    arrays["covariate_columns"] = np.array(covariates.columns, dtype=str)
    if smk.params.study_input != "values":  # counts or quant: the counts are transformed
        def shards():  # read shard by shard (twice for the VST's trend)
            return (read_npz(path, ["counts"])["counts"] for path in smk.input.shards)

        arrays.update(transform_summary(shards, np.asarray(manifest["size_factors"]), analysis.transform or "vst"))
    write_npz(smk.output[0], arrays)
    log.info("%d permutations of %d samples, seed %d; covariates %s", analysis.permutations, trait.size,
             analysis.seed, ", ".join(covariates.columns))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
