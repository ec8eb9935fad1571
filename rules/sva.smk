# Surrogate variables: one genome-wide job per analysis with `sva:`, reading the shards one by
# one; its table joins the design of every later job of that analysis (input `covariates`).


rule sva:
    input:
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("sva", "{analysis}"),
    output:
        table=f"{OUTDIR}/{{analysis}}/surrogate_variables.tsv",
        info=f"{OUTDIR}/{{analysis}}/surrogate_variables.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/sva.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/sva.tsv"
    wildcard_constraints:
        analysis=SVA_NAMES,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("sva"),
        code=code("sva.py"),
    script:
        "../scripts/sva.py"
