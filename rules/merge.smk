rule results_table:
    input:
        fits=fit_files,
        features=rules.ingest.output.features,
        shrunk=shrink_files,
        stamp=stamp("results_table", "{analysis}"),
    output:
        table=f"{OUTDIR}/{{analysis}}/{{table}}.tsv",
    log:
        f"{OUTDIR}/logs/{{analysis}}/table_{{table}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/table_{{table}}.tsv"
    wildcard_constraints:
        analysis=NB_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("tables"),
        code=code("results_table.py"),
    script:
        "../scripts/results_table.py"


rule merge:
    input:
        unpack(sva_input),
        fits=fit_files,
        trend=analysis_trend,
        manifest=rules.ingest.output.manifest,
        features=rules.ingest.output.features,
        samples=config["samples"],
        stamp=stamp("merge", "{analysis}"),
    output:
        dispersions=f"{OUTDIR}/{{analysis}}/dispersions.tsv",
        model=f"{OUTDIR}/{{analysis}}/model.json",
        summary=report(
            REPORT_PATHS.summary_table(),
            caption="captions/summary.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "summary table"},
        ),
    log:
        f"{OUTDIR}/logs/{{analysis}}/merge.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/merge.tsv"
    wildcard_constraints:
        analysis=NB_NAMES,
    priority: SOONER
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("tables"),
        model=analysis_model_params,
        code=code("merge.py"),
    script:
        "../scripts/merge.py"
