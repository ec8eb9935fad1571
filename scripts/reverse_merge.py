"""Rule reverse_merge: calibrated p-values and BH genome-wide; reverse.tsv and model.json."""

from glmstack.io.features import annotate, read_features
from glmstack.io.files import read_npz, write_json
from glmstack.io.shards import concat_npz
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.reverse import steps
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fits, plan = concat_npz(smk.input.fits), read_npz(smk.input.plan)
    n_samples, n_covariates = plan["covariates"].shape
    table = steps.merge_step(fits["gene_id"], fits, n_samples, n_covariates)
    write_tsv(smk.output.table, annotate(table, read_features(smk.input.features)))
    model = steps.model_summary(analysis, table, fits, plan, smk.params.study_input)
    write_json(smk.output.model, model)
    log.info("%d features tested; padj < %g: %d calibrated, %d naive", model["n_tested"], analysis.alpha,
             model["n_significant"], model["n_significant_naive"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
