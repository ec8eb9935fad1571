# Study-wide matrices: normalized counts (DESeq2 counts(dds, normalized = TRUE)), the VST the
# report's PCA uses, and normalization factors where the study has them (tximport offsets).


rule normalize:
    input:
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("normalize"),
    output:
        **NORMALIZATION_FILES,
    log:
        f"{OUTDIR}/logs/normalize.log",
    benchmark:
        f"{OUTDIR}/benchmarks/normalize.tsv"
    priority: LATER
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        vst_model=vst_model(),
        code=code("normalize.py"),
    script:
        "../scripts/normalize.py"
