"""Rule fit: MAP dispersions, NB GLM fit and tests for one shard of one analysis."""

from glmstack.allocator import retain_freed_memory
from glmstack.design.model import build_model
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.shards import load_shard_inputs
from glmstack.logs import log_to
from glmstack.nb.steps import fit_step
from glmstack.spec import Analysis
from glmstack.sva.tables import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = load_shard_inputs(smk.input.shard, smk.input.manifest, smk.input.samples)
    analysis = Analysis.from_params(smk.params.analysis)
    model = build_model(data.samples, analysis, job_covariates(smk.input))
    genewise = read_npz(smk.input.genewise)
    # MAP dispersions from the shared map job, or (an analysis alone on its design) made here
    dispersions = read_npz(smk.input.map) if "map" in smk.input.keys() else None
    trend = read_json(smk.input.trend)
    result = fit_step(data.counts, data.factors, model, genewise, dispersions, trend, analysis)
    write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    log.info("%d genes fitted, %d did not converge, %d counts replaced", len(data.gene_id),
             int((result["beta_conv"] == 0).sum()), int(result["n_counts_replaced"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
