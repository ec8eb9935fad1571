"""Rule merge: dispersions.tsv and model.json for one analysis."""

from glmstack import io, stages
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    fit = io.concat_npz(smk.input.fits, exclude=io.PER_SAMPLE_FIT_ARRAYS)
    manifest = io.read_json(smk.input.manifest)
    io.write_tsv(smk.output.dispersions, stages.dispersion_table(fit))
    sheet = io.aligned_samples(smk.input.samples, manifest["samples"])
    # the tables' counts, from the same function as rule results_table (which runs alongside)
    summaries = [stages.results_table(fit, params)[1] for params in smk.params.tables]
    model = stages.model_summary(
        sheet, smk.params.analysis, fit, io.read_json(smk.input.trend), manifest, summaries
    )
    io.write_json(smk.output.model, model)
    log.info("%d genes merged", len(fit["gene_id"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
