# The dispersion fit, shared by every analysis with the same design (and trend type): gene-wise
# estimates per model and shard, then the genome-wide trend and prior (rule fit, per shard, takes
# the MAP dispersions from them).


rule genewise:
    input:
        unpack(model_sva_input),
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("genewise", "{model}"),
    output:
        f"{OUTDIR}/models/{{model}}/genewise/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/models/{{model}}/genewise/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{model}}/genewise/{{shard}}.tsv"
    priority: FIRST
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=model_params,
        design=model_design_params,
        code=code("genewise.py"),
    script:
        "../scripts/genewise.py"


rule trend:
    input:
        unpack(model_sva_input),
        genewise=genewise_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("trend", "{model}.{fit_type}"),
    output:
        f"{OUTDIR}/models/{{model}}/{{fit_type}}/trend.json",
    log:
        f"{OUTDIR}/logs/models/{{model}}/{{fit_type}}/trend.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{model}}/{{fit_type}}/trend.tsv"
    priority: FIRST
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=trend_params,
        design=model_design_params,
        code=code("trend.py"),
    script:
        "../scripts/trend.py"
