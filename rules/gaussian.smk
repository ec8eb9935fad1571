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


# The genome-wide steps of the analyses that share a least-squares fit (LMFIT_GROUPS: one
# design, family and normalization), one job each for all of them: limma's moderation and
# tables, and model.json (moderate_<lmfit id>); every plot (plot_limma_analysis_<lmfit id>).
for _key, _names in LMFIT_GROUPS.items():

    rule:
        name:
            f"moderate_{_key}"
        input:
            unpack(shared_sva_input(LMFITS[_key])),
            fits=group_lmfit_files(_key),
            manifest=rules.ingest.output.manifest,
            features=rules.ingest.output.features,
            samples=config["samples"],
            stamps=[stamp("moderate", name) for name in _names],
        output:
            group_limma_outputs(_names),
        log:
            f"{OUTDIR}/logs/models/{_key}/moderate.log",
        benchmark:
            f"{OUTDIR}/benchmarks/models/{_key}/moderate.tsv"
        priority: SOONER
        conda:
            "../envs/glmstack.yaml"
        params:
            analyses=group_jobs(_names, "limma_summary", limma_outputs),
            code=code("moderate.py"),
        script:
            "../scripts/moderate.py"

    rule:
        name:
            f"plot_limma_analysis_{_key}"
        input:
            unpack(group_library_size_input(_key)),
            unpack(shared_sva_input(LMFITS[_key])),
            fits=group_lmfit_files(_key),
            shards=all_shard_files,
            manifest=rules.ingest.output.manifest,
            samples=config["samples"],
            features=rules.ingest.output.features,
            stamps=[stamp("plot_limma_analysis", name) for name in _names],
        output:
            group_limma_plot_outputs(_names),
        log:
            f"{OUTDIR}/logs/models/{_key}/plot_limma_analysis.log",
        benchmark:
            f"{OUTDIR}/benchmarks/models/{_key}/plot_limma_analysis.tsv"
        priority: SOONER
        conda:
            "../envs/glmstack.yaml"
        params:
            analyses=group_jobs(_names, "limma_summary", limma_plot_outputs),
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
