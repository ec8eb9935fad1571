# One fit job per shard for the nb analyses with one design and trend type: the MAP dispersions and
# the full GLM once, then each analysis's reduced fit, Cook's handling and tests (<analysis>.*).


rule fit:
    input:
        unpack(model_sva_input),
        unpack(fit_inputs),
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
    output:
        f"{OUTDIR}/models/{{model}}/{{fit_type}}/fit/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/models/{{model}}/{{fit_type}}/fit/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{model}}/{{fit_type}}/fit/{{shard}}.tsv"
    priority: FIRST
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analyses=fit_params,
        models=fit_model_params,
        code=code("fit.py"),
    script:
        "../scripts/fit.py"
