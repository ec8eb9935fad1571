"""Rule reverse_shard: robust fits of trait ~ covariates + feature for one shard, on the observed
trait and on every permuted one (MASS::rlm's Huber M-estimator); each feature not tested is
logged with its reason."""

import time

from glmstack.io.files import read_npz, write_npz
from glmstack.logs import log_to
from glmstack.reverse import steps
from glmstack.reverse.transform import transform_counts


def main(smk) -> None:
    log = log_to(smk.log[0])
    started = time.perf_counter()
    shard, plan = read_npz(smk.input.shard), read_npz(smk.input.plan)
    values = shard["values"] if "values" in shard else transform_counts(shard["counts"], plan)
    result = steps.shard_step(values, steps.Plan.from_arrays(plan))
    write_npz(smk.output[0], {"gene_id": shard["gene_id"], **result})
    log.info("%d features x %d permutations in %.1f s; %d observed fits did not converge",
             len(shard["gene_id"]), plan["null_traits"].shape[0], time.perf_counter() - started,
             int((~result["converged"] & (result["untested"] == 0)).sum()))
    for line in steps.untested_lines(shard["gene_id"], result, plan["covariates"].shape[1] + 1):
        log.info(line)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
