rule genewise:
    input:
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("genewise", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/genewise/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/genewise/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/genewise/{{shard}}.tsv"
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("model"),
        code=code("genewise.py"),
    script:
        "../scripts/genewise.py"
