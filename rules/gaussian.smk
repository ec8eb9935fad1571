# Family gaussian (limma's method): least squares per shard, then per analysis the genome-wide
# moderation with one job per table (moderated t, treat or F) and one for model.json.
# Family voom first fits log-CPM unweighted per shard (voom_points), fits the mean-variance trend
# over every gene (voom_trend), and then its lmfit jobs fit with voom's precision weights.
# The least-squares fit (and voom's points and trend) is shared by every analysis with the same
# lmfit keys (family, design, normalization; glmstack.spec.shape_id): models/<lmfit id>/.


rule library_sizes:
    input:
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        stamp=stamp("library_sizes"),
    output:
        f"{OUTDIR}/normalization/library_sizes.tsv",
    log:
        f"{OUTDIR}/logs/library_sizes.log",
    benchmark:
        f"{OUTDIR}/benchmarks/library_sizes.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        code=code("library_sizes.py"),
    script:
        "../scripts/library_sizes.py"


rule voom_points:
    input:
        unpack(lmfit_sva_input),
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        library_sizes=rules.library_sizes.output[0],
        stamp=stamp("voom_points", "{lmfit_id}"),
    output:
        f"{OUTDIR}/models/{{lmfit_id}}/voom/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/models/{{lmfit_id}}/voom/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{lmfit_id}}/voom/{{shard}}.tsv"
    wildcard_constraints:
        lmfit_id=VOOM_FIT_IDS,
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=lmfit_params,
        design=lmfit_design_params,
        code=code("voom_points.py"),
    script:
        "../scripts/voom_points.py"


rule voom_trend:
    input:
        points=voom_point_files,
        stamp=stamp("voom_trend", "{lmfit_id}"),
    output:
        f"{OUTDIR}/models/{{lmfit_id}}/voom/trend.npz",
    log:
        f"{OUTDIR}/logs/models/{{lmfit_id}}/voom_trend.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{lmfit_id}}/voom_trend.tsv"
    wildcard_constraints:
        lmfit_id=VOOM_FIT_IDS,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=lmfit_params,
        code=code("voom_trend.py"),
    script:
        "../scripts/voom_trend.py"


# per analysis (its report section), drawn from the shared points and trend
rule plot_voom:
    input:
        points=voom_point_files,
        trend=voom_trend_file,
        stamp=stamp("plot_voom", "{analysis}"),
    output:
        voom_trend=report(
            REPORT_PATHS.analysis_plot("voom_trend"),
            caption="captions/voom_trend.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "voom mean-variance trend"},
        ),
    log:
        f"{OUTDIR}/logs/{{analysis}}/plot_voom.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/plot_voom.tsv"
    wildcard_constraints:
        analysis=VOOM_NAMES,
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("lmfit"),
        code=code("plot_voom.py"),
    script:
        "../scripts/plot_voom.py"


rule lmfit:
    input:
        unpack(voom_inputs),
        unpack(lmfit_sva_input),
        shard=shard_file,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("lmfit", "{lmfit_id}"),
    output:
        f"{OUTDIR}/models/{{lmfit_id}}/lmfit/{{shard}}.npz",
    log:
        f"{OUTDIR}/logs/models/{{lmfit_id}}/lmfit/{{shard}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/models/{{lmfit_id}}/lmfit/{{shard}}.tsv"
    conda:
        "../envs/glmstack.yaml"
    resources:
        mem_mb=shard_mem_mb,
    params:
        analysis=lmfit_params,
        design=lmfit_design_params,
        code=code("lmfit.py"),
    script:
        "../scripts/lmfit.py"


rule moderate:
    input:
        unpack(sva_input),
        fits=lmfit_files,
        manifest=rules.ingest.output.manifest,
        features=rules.ingest.output.features,
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
        model=analysis_model_params,
        code=code("moderate.py"),
    script:
        "../scripts/moderate.py"


rule limma_model:
    input:
        unpack(sva_input),
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
    priority: SOONER
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("limma_summary"),
        model=analysis_model_params,
        code=code("limma_model.py"),
    script:
        "../scripts/limma_model.py"


rule plot_limma_analysis:
    input:
        unpack(library_size_input),
        unpack(sva_input),
        fits=lmfit_files,
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        features=rules.ingest.output.features,
        stamp=stamp("plot_limma_analysis", "{analysis}"),
    output:
        sigma_mean=report(
            REPORT_PATHS.analysis_plot("sigma_mean"),
            caption="captions/sigma_mean.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "sigma against mean"},
        ),
        # one folder per kind of plot, a PNG per table (table_plot_params)
        ma=table_report("ma", "MA plot", "limma_ma"),
        volcano=table_report("volcano", "volcano plot", "limma_volcano"),
        pvalues=table_report("pvalues", "p-value histogram", "limma_pvalues"),
        values=table_report("values", "top features", "limma_values"),
        top=top_genes_report("top features table"),
    log:
        f"{OUTDIR}/logs/{{analysis}}/plot_analysis.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/plot_analysis.tsv"
    wildcard_constraints:
        analysis=GAUSSIAN_NAMES,
    priority: SOONER
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("limma_summary"),
        model=analysis_model_params,
        tables=table_plot_params(LIMMA_TABLE_PLOTS),
        top_genes=config["report"]["top_genes"],
        code=code("plot_limma_analysis.py"),
    script:
        "../scripts/plot_limma_analysis.py"


rule plot_values:
    input:
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("plot_values"),
    output:
        pca=report(
            REPORT_PATHS.study_plot("values_pca"),
            caption="captions/values_pca.rst",
            category="Study",
            labels={"figure": "PCA of the values"},
        ),
        pca_table=f"{OUTDIR}/qc/values_pca.tsv",
    log:
        f"{OUTDIR}/logs/plot_values.log",
    benchmark:
        f"{OUTDIR}/benchmarks/plot_values.tsv"
    priority: LATER
    conda:
        "../envs/glmstack.yaml"
    params:
        plot=values_plot_params(),
        code=code("plot_values.py"),
    script:
        "../scripts/plot_values.py"
