# Shrunken fold changes (lfc_shrink): the prior (variances, or apeglm scale) from every gene's MLE fold
# changes (genome-wide), then the penalised refit of each shard. The tables add the columns.


rule shrink_prior:
    input:
        unpack(sva_input),
        fits=fit_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("shrink_prior", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/shrink_prior.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/shrink_prior.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/shrink_prior.tsv"
    wildcard_constraints:
        analysis=SHRINK_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("shrink"),
        code=code("shrink_prior.py"),
    script:
        "../scripts/shrink_prior.py"


rule shrink:
    input:
        unpack(sva_input),
        shard=shard_file,
        fit=fit_file,
        prior=rules.shrink_prior.output[0],
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("shrink", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/shrink/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/shrink/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/shrink/{{shard}}.tsv"
    wildcard_constraints:
        analysis=SHRINK_NAMES,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("shrink"),
        code=code("shrink.py"),
    script:
        "../scripts/shrink.py"
