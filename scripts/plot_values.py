"""Rule plot_values: the study QC of a values study, a PCA of the most variable complete features."""

import pandas as pd
from glmstack.gaussian.qc import most_variable_rows
from glmstack.io.files import read_json, read_npz
from glmstack.io.samples import aligned_samples
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.vst import pca
from glmstack.report import plots


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings, samples = smk.params.plot, read_json(smk.input.manifest)["samples"]
    colour = settings["color_by"]
    groups = aligned_samples(smk.input.samples, samples)[colour].astype(str).tolist()
    top = most_variable_rows((read_npz(p, ["values"])["values"] for p in smk.input.shards), settings["pca_genes"])
    result = pca(top)
    plots.pca_plot(result.scores, result.percent_var, samples, groups, colour, smk.output.pca, len(top), "the values")
    k = min(10, result.scores.shape[1])
    write_tsv(smk.output.pca_table, pd.DataFrame({"sample": samples, colour: groups,
                                                  **{f"PC{i + 1}": result.scores[:, i] for i in range(k)}}))
    log.info("PCA of %d complete features", len(top))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
