"""Rule fit: for one shard, the MAP dispersions of a design and trend type and its GLM fit, then
the tests of every analysis on them (each analysis's arrays named <analysis>.<array>)."""

from glmstack.allocator import retain_freed_memory
from glmstack.design.matrices import model_from_params
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.shards import fit_arrays, load_shard_inputs
from glmstack.logs import log_to
from glmstack.nb.steps import fit_step, shared_fit_step
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = load_shard_inputs(smk.input.shard, smk.input.manifest)
    analyses = [Analysis.from_params(params) for params in smk.params.analyses]
    covariates = job_covariates(smk.input)
    models = [model_from_params(params, data.samples, covariates) for params in smk.params.models]
    genewise, trend = read_npz(smk.input.genewise), read_json(smk.input.trend)
    # the MAP dispersions, the full design's fit and the Cook's robust dispersions once for all
    lrt = any(model.reduced is not None for model in models)
    shared = shared_fit_step(data.counts, data.factors, models[0].full.matrix, genewise, trend, log_like=lrt)
    arrays = {"gene_id": data.gene_id}
    for analysis, model in zip(analyses, models):
        result = fit_step(data.counts, data.factors, model, shared, trend, analysis)
        arrays |= fit_arrays(analysis.name, result)
        log.info("%s: %d genes fitted, %d did not converge, %d counts replaced", analysis.name,
                 len(data.gene_id), int((result["beta_conv"] == 0).sum()), int(result["n_counts_replaced"]))
    write_npz(smk.output[0], arrays)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
