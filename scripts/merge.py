"""Rule merge: dispersions.tsv, model.json and the report's summary table for one analysis."""

from glmstack.design.matrices import model_from_params
from glmstack.io.features import annotate, read_features
from glmstack.io.files import read_json, write_json, write_small_tsv
from glmstack.io.shards import PER_SAMPLE_FIT_ARRAYS, concat_fits
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.results import dispersion_table, model_summary, results_table
from glmstack.report.summary import analysis_summary
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fit = concat_fits(smk.input.fits, analysis.name, exclude=PER_SAMPLE_FIT_ARRAYS)
    manifest = read_json(smk.input.manifest)
    write_tsv(smk.output.dispersions, annotate(dispersion_table(fit), read_features(smk.input.features)))
    model = model_from_params(smk.params.model, manifest["samples"], job_covariates(smk.input))
    # the tables' counts, from the same function as rule results_table (which runs alongside)
    summaries = [results_table(fit, analysis, name)[1] for name in analysis.table_names]
    description = model_summary(model, analysis, fit, read_json(smk.input.trend), manifest, summaries)
    write_json(smk.output.model, description)
    rows = analysis_summary(description)
    write_small_tsv(smk.output.summary, {"item": [r[0] for r in rows], "value": [r[1] for r in rows]})
    log.info("%d genes merged", len(fit["gene_id"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
