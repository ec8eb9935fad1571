# Study-wide matrices: normalized counts (DESeq2 counts(dds, normalized = TRUE)), the VST, and
# normalization factors where the study has them (tximport offsets); and from the same pass what
# the study plots need of the VST (top genes for the PCA, sample distances) and library sizes.


rule normalize:
    input:
        unpack(vst_sva_input),
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("normalize"),
    output:
        **NORMALIZATION_FILES,
        plot_data=f"{OUTDIR}/qc/vst_summary.npz",
    log:
        f"{OUTDIR}/logs/normalize.log",
    benchmark:
        f"{OUTDIR}/benchmarks/normalize.tsv"
    priority: BESIDE
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        vst_design=vst_design(),
        pca_genes=REPORT["pca_genes"],
        code=code("normalize.py"),
    script:
        "../scripts/normalize.py"
