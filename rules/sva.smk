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


rule plot_sva:
    input:
        table=rules.sva.output.table,
        pca=sva_pca_table(),
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("plot_sva", "{analysis}"),
    output:
        r2=report(
            REPORT_PATHS.analysis_plot("sva_variables"),
            caption="captions/sva_variables.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "surrogate variables against sample variables"},
        ),
        pca=report(
            REPORT_PATHS.analysis_plot("sva_pca"),
            caption="captions/sva_pca.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "PCA coloured by the variable the SVs track"},
        ),
        r2_table=f"{OUTDIR}/{{analysis}}/report/sva_r2.tsv",
    log:
        f"{OUTDIR}/logs/{{analysis}}/plot_sva.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/plot_sva.tsv"
    wildcard_constraints:
        analysis=SVA_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        code=code("plot_sva.py"),
    script:
        "../scripts/plot_sva.py"
