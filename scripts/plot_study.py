"""Rule plot_study: size factors and library sizes, PCA and distance heatmap of the VST (its
most variable genes and the sample distances, summarised by rule normalize)."""

import numpy as np
from glmstack.io.files import read_json, read_npz, write_small_tsv
from glmstack.io.samples import sample_column
from glmstack.logs import log_to
from glmstack.nb import vst
from glmstack.report import plots


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings, manifest = smk.params.plot, read_json(smk.input.manifest)
    samples, sf = manifest["samples"], np.asarray(manifest["size_factors"], dtype=float)
    data = read_npz(smk.input.plot_data)
    top_index, top_values, distances = data["gene_id"], data["top_values"], data["distances"]
    pca, colour = vst.pca(top_values), settings["color_by"]
    groups = sample_column(smk.input.samples, samples, colour)
    plots.size_factor_plot(samples, sf, data["library_sizes"], smk.output.size_factors)
    plots.pca_plot(pca.scores, pca.percent_var, samples, groups, colour, smk.output.pca, len(top_index))
    linkage = vst.cluster_linkage(distances)
    plots.distance_heatmap(distances, linkage, samples, groups, colour, smk.output.distances)
    k = min(10, pca.scores.shape[1])
    scores = {f"PC{i + 1}": pca.scores[:, i] for i in range(k)}
    write_small_tsv(smk.output.pca_table, {"sample": samples, colour: groups, **scores})
    shares = ", ".join(f"{100 * v:.1f}" for v in pca.percent_var[:k])
    log.info("PCA of %d genes: %s %% variance", len(top_index), shares)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
