"""Rule moderate_<lmfit id>: for each gaussian or voom analysis that shares a least-squares fit,
limma's genome-wide moderation (once), its tables (moderated t, treat or F) and model.json. One
job for the analyses of a fit, as for the fit itself: a second analysis costs its moderation and
tables, not a job start."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import annotated_tables, model_summary
from glmstack.io.features import read_features
from glmstack.io.files import read_json, write_json
from glmstack.io.shards import concat_npz
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    arrays = concat_npz(smk.input.fits)
    samples = read_json(smk.input.manifest)["samples"]
    covariates = job_covariates(smk.input)  # the surrogate variables the group's designs share
    features = read_features(smk.input.features)
    for job in smk.params.analyses:
        analysis, out = Analysis.from_params(job["analysis"]), job["outputs"]
        model = model_from_params(job["model"], samples, covariates)
        result = annotated_tables(arrays, features, model, analysis)
        for name, table in result["tables"].items():
            write_tsv(out["tables"][name], table)
            log.info("%s %s: %d of %d features tested", analysis.name, name, int(table["P.Value"].notna().sum()),
                     len(table))  # fmt: skip
        write_json(out["model"], model_summary(model, analysis, result, samples))
        log.info("%s: df.prior %s", analysis.name, result["moderation"].prior.df_prior[:1])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
