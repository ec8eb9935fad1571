"""Rule plot_contrast: MA, volcano, p-value histogram and top-gene counts of one result table."""

import numpy as np
import pandas as pd

from glmstack import io, plots, report, stages, vst
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    params, analysis = smk.params.table, smk.params.analysis
    name = f"{smk.wildcards.analysis}: {smk.wildcards.table}"
    table = pd.read_csv(smk.input.table, sep="\t", dtype={"gene_id": str},
                        keep_default_na=False, na_values=[""])  # as glmstack.io writes it
    top = report.top_genes(table, params["top_genes"])
    rows = top.index.to_numpy()
    paths = {"ma": smk.output.ma, "volcano": smk.output.volcano, "pvalues": smk.output.pvalues}
    threshold = float(analysis.get("lfc_threshold", 0.0))
    plots.table_plots(table, rows[: plots.MAX_LABELS], params["alpha"], threshold, paths, name)
    manifest = io.read_json(smk.input.manifest)
    sf = np.asarray(manifest["size_factors"], dtype=float)
    model = stages.build_model(io.aligned_samples(smk.input.samples, manifest["samples"]), analysis)
    beta = np.concatenate([io.read_npz(path, ["beta"])["beta"] for path in smk.input.fits])[rows]
    shards = (io.read_npz(path, ["counts"])["counts"] for path in smk.input.shards)
    counts = vst.select_rows(shards, rows, sf.size)
    genes, padj = top["gene_id"].tolist(), top["padj"].to_numpy(dtype=float)
    title = f"{name}: top {len(top)} genes by padj"
    plots.top_gene_counts(model, params["table"], genes, padj, counts, sf, beta, smk.output.counts, title)
    io.write_tsv(smk.output.top, top)
    log.info("%s: %d genes with padj < %g, %d shown", name, int(np.sum(table["padj"] < params["alpha"])),
             params["alpha"], len(top))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
