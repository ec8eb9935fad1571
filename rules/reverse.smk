# Direction reverse (trait ~ covariates + feature): one permutation plan per analysis, robust fits
# of the observed and permuted traits per shard, then calibration, BH and the table in one merge.


rule reverse_plan:
    input:
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("reverse_plan", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/reverse/plan.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/reverse_plan.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/reverse_plan.tsv"
    wildcard_constraints:
        analysis=REVERSE_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("reverse"),
        study_input=STUDY_INPUT,
        code=code("reverse_plan.py"),
    script:
        "../scripts/reverse_plan.py"


rule reverse_shard:
    input:
        shard=shard_file,
        plan=rules.reverse_plan.output[0],
        stamp=stamp("reverse_shard", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/reverse/shards/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/{{analysis}}/reverse_shard/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/reverse_shard/{{shard}}.tsv"
    wildcard_constraints:
        analysis=REVERSE_NAMES,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=reverse_mem_mb,
    params:
        analysis=analysis_params("reverse"),
        code=code("reverse_shard.py"),
    script:
        "../scripts/reverse_shard.py"


rule reverse_merge:
    input:
        fits=reverse_shard_files,
        plan=rules.reverse_plan.output[0],
        features=rules.ingest.output.features,
        stamp=stamp("reverse_merge", "{analysis}"),
    output:
        table=f"{OUTDIR}/{{analysis}}/reverse.tsv",
        model=f"{OUTDIR}/{{analysis}}/model.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/reverse_merge.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/reverse_merge.tsv"
    wildcard_constraints:
        analysis=REVERSE_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("reverse_merge"),
        study_input=STUDY_INPUT,
        code=code("reverse_merge.py"),
    script:
        "../scripts/reverse_merge.py"


rule plot_reverse:
    input:
        table=rules.reverse_merge.output.table,
        features=rules.ingest.output.features,
        plan=rules.reverse_plan.output[0],
        shards=all_shard_files,
        stamp=stamp("plot_reverse", "{analysis}"),
    output:
        qq=report(
            REPORT_PATHS.table_plot("qq", table="reverse"),
            caption="captions/reverse_qq.rst",
            category="{analysis}",
            subcategory="reverse",
            labels={"figure": "QQ plot of naive and calibrated p-values"},
        ),
        pvalues=report(
            REPORT_PATHS.table_plot("pvalues", table="reverse"),
            caption="captions/reverse_pvalues.rst",
            category="{analysis}",
            subcategory="reverse",
            labels={"figure": "p-value histograms"},
        ),
        top_features=report(
            REPORT_PATHS.table_plot("top_features", table="reverse"),
            caption="captions/reverse_top_features.rst",
            category="{analysis}",
            subcategory="reverse",
            labels={"figure": "trait against the top features"},
        ),
        top=report(
            REPORT_PATHS.top_genes_table(table="reverse"),
            caption="captions/top_genes.rst",
            category="{analysis}",
            subcategory="reverse",
            labels={"figure": "top features table"},
        ),
    log:
        f"{OUTDIR}/logs/{{analysis}}/plot_reverse.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/plot_reverse.tsv"
    wildcard_constraints:
        analysis=REVERSE_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("reverse_merge"),
        top_genes=config["report"]["top_genes"],
        code=code("plot_reverse.py"),
    script:
        "../scripts/plot_reverse.py"
