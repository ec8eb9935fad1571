# Read and check the count matrix, compute size factors, write the gene shards (one pass).


checkpoint ingest:
    input:
        unpack(size_factor_input),
        counts=config["counts"],
        samples=config["samples"],
        stamp=stamp("ingest"),
    output:
        marker=f"{OUTDIR}/{OUTDIR_MARKER}",
        manifest=f"{OUTDIR}/manifest.json",
        shards=directory(f"{OUTDIR}/shards"),
        size_factors=f"{OUTDIR}/normalization/size_factors.tsv",
    log:
        f"{OUTDIR}/logs/ingest.log",
    benchmark:
        f"{OUTDIR}/benchmarks/ingest.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        settings=ingest_params(),
        code=code("ingest.py"),
    script:
        "../scripts/ingest.py"
