# Family gaussian (limma's method): least squares per shard, then per analysis the genome-wide
# moderation with one job per table (moderated t, treat or F) and one for model.json.


rule lmfit:
    input:
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("lmfit", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/lmfit/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/lmfit/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/lmfit/{{shard}}.tsv"
    wildcard_constraints:
        analysis=GAUSSIAN_NAMES,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=analysis_params("lmfit"),
        code=code("lmfit.py"),
    script:
        "../scripts/lmfit.py"


rule moderate:
    input:
        fits=lmfit_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("moderate", "{analysis}"),
    output:
        table=f"{OUTDIR}/{{analysis}}/{{table}}.tsv",
    log:
        f"{OUTDIR}/logs/{{analysis}}/table_{{table}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/table_{{table}}.tsv"
    wildcard_constraints:
        analysis=GAUSSIAN_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("moderate"),
        code=code("moderate.py"),
    script:
        "../scripts/moderate.py"


rule limma_model:
    input:
        fits=lmfit_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("limma_model", "{analysis}"),
    output:
        model=f"{OUTDIR}/{{analysis}}/model.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/model.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/model.tsv"
    wildcard_constraints:
        analysis=GAUSSIAN_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("limma_summary"),
        code=code("limma_model.py"),
    script:
        "../scripts/limma_model.py"
