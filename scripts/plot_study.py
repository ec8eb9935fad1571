"""Rule plot_study: size factors and library sizes, PCA and distance heatmap of the VST."""

import numpy as np
import pandas as pd
from glmstack.design.model import full_design
from glmstack.io.files import read_json, read_npz, write_tsv
from glmstack.io.samples import aligned_samples
from glmstack.logs import log_to
from glmstack.nb import vst
from glmstack.report import plots
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings, manifest = smk.params.plot, read_json(smk.input.manifest)
    samples, sf = manifest["samples"], np.asarray(manifest["size_factors"], dtype=float)
    sheet = aligned_samples(smk.input.samples, samples)
    vst_model = settings["vst_model"]  # None: blind to the design, as DESeq2's vst by default
    design = full_design(sheet, Analysis.from_params(vst_model)).matrix if vst_model else None

    def shards():  # vst reads the shards a few times, one at a time
        return (read_npz(path, ["counts"])["counts"] for path in smk.input.shards)

    result = vst.study_vst(shards, sf, design, ntop=settings["pca_genes"])
    pca, colour = vst.pca(result.top_values), settings["color_by"]
    groups = sheet[colour].astype(str).tolist()
    plots.size_factor_plot(samples, sf, result.library_sizes, smk.output.size_factors)
    n_top = len(result.top_index)
    plots.pca_plot(pca.scores, pca.percent_var, samples, groups, colour, smk.output.pca, n_top)
    linkage = vst.cluster_linkage(result.distances)
    plots.distance_heatmap(result.distances, linkage, samples, groups, colour, smk.output.distances)
    k = min(10, pca.scores.shape[1])
    scores = {f"PC{i + 1}": pca.scores[:, i] for i in range(k)}
    write_tsv(smk.output.pca_table, pd.DataFrame({"sample": samples, colour: groups, **scores}))
    shares = ", ".join(f"{100 * v:.1f}" for v in pca.percent_var[:k])
    log.info("VST trend %s %s; PCA of %d genes: %s %% variance", result.trend.fit_type,
             result.trend.coefficients, len(result.top_index), shares)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
