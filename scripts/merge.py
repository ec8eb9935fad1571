"""Rule merge_<group>: for each nb analysis of a fit group (one design and trend type), its
result tables (independent filtering and Benjamini-Hochberg over all genes), dispersions.tsv,
model.json and the report's summary table. One job for the group, as for its fits: a second
analysis of a design costs its tables, not a job start."""

from glmstack.design.matrices import model_from_params
from glmstack.io.features import annotate, read_features
from glmstack.io.files import read_json, write_json, write_small_tsv
from glmstack.io.shards import PER_SAMPLE_FIT_ARRAYS, concat_fits
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.results import analysis_tables, dispersion_table, model_summary
from glmstack.report.summary import analysis_summary
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    manifest, trend = read_json(smk.input.manifest), read_json(smk.input.trend)
    features = read_features(smk.input.features)
    covariates = job_covariates(smk.input)  # the surrogate variables the group's designs share
    for job in smk.params.analyses:
        analysis, out = Analysis.from_params(job["analysis"]), job["outputs"]
        fit = concat_fits(smk.input.fits, analysis.name, exclude=PER_SAMPLE_FIT_ARRAYS)
        tables = analysis_tables(fit, job["shrunk"], features, analysis)
        for name, (table, summary) in tables.items():
            write_tsv(out["tables"][name], table)
            log.info("%s %s: %d tested, %d with padj < %g", analysis.name, name, summary["n_tested"],
                     summary["n_significant"], analysis.alpha)  # fmt: skip
        write_tsv(out["dispersions"], annotate(dispersion_table(fit), features))
        model = model_from_params(job["model"], manifest["samples"], covariates)
        summaries = [summary for _, summary in tables.values()]
        description = model_summary(model, analysis, fit, trend, manifest, summaries)
        write_json(out["model"], description)
        rows = analysis_summary(description)
        write_small_tsv(out["summary"], {"item": [r[0] for r in rows], "value": [r[1] for r in rows]})
        log.info("%s: %d genes merged", analysis.name, len(fit["gene_id"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
