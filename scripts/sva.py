"""Rule sva: surrogate variables of one analysis from every shard (one shard in memory)."""

import numpy as np
from glmstack.design.model import sva_null_design
from glmstack.errors import StudyError
from glmstack.io.files import read_json, write_json
from glmstack.io.samples import aligned_samples
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.blocks import FeatureBlocks, shard_blocks
from glmstack.sva.steps import sva_step
from glmstack.sva.tables import write_surrogate_variables


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    manifest = read_json(smk.input.manifest)
    full, null, how = sva_null_design(aligned_samples(smk.input.samples, manifest["samples"]), analysis)
    if manifest.get("input") == "values":  # a counts manifest has size factors instead
        blocks = FeatureBlocks(shard_blocks(smk.input.shards, "values"))
    else:
        blocks = FeatureBlocks(shard_blocks(smk.input.shards, "counts"), "counts", np.asarray(manifest["size_factors"]))
    kept = int(blocks.kept().sum())
    if kept <= full.matrix.shape[0]:
        raise StudyError(
            f"analyses.{analysis.name}.sva: only {kept} of {manifest['n_genes']} features can be used (no missing "
            "value, not constant; for counts a mean normalised count above 1), too few to estimate surrogate "
            f"variables for {full.matrix.shape[0]} samples. Fix: remove `sva:` from this analysis."
        )
    result = sva_step(blocks, full.matrix, null, analysis.sva)
    write_surrogate_variables(smk.output.table, manifest["samples"], result["sv"])
    scale = "values" if manifest.get("input") == "values" else "log(count / size factor + 1), mean normalised count > 1"
    info = {**result["info"], "null_design": how, "features_used": kept, "features": manifest["n_genes"],
            "scale": scale, "design_columns": full.columns}
    write_json(smk.output.info, info)
    log.info("%d surrogate variables (%s) from %d of %d features", info["n"], analysis.sva["method"], kept,
             manifest["n_genes"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
