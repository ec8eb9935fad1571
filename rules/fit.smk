rule fit:
    input:
        unpack(sva_input),
        unpack(dispersion_fit),
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("fit", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/fit/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/fit/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/fit/{{shard}}.tsv"
    wildcard_constraints:
        analysis=NB_NAMES,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("fit"),
        code=code("fit.py"),
    script:
        "../scripts/fit.py"
