rule fit:
    input:
        shard=shard_file,
        genewise=rules.genewise.output[0],
        trend=rules.trend.output[0],
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("fit", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/fit/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/fit/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/fit/{{shard}}.tsv"
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("fit"),
        code=code("fit.py"),
    script:
        "../scripts/fit.py"
