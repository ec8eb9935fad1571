# Plots (PNG) and the study report. Every plot is a report() output, so
# `snakemake --report report.html` gathers them; rule report writes the standalone
# <outdir>/report.html at the end of every run.


rule plot_study:
    input:
        plot_data=rules.normalize.output.plot_data,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("plot_study"),
    output:
        size_factors=report(
            REPORT_PATHS.study_plot("size_factors"),
            caption="captions/size_factors.rst",
            category="Study",
            labels={"figure": "size factors and library sizes"},
        ),
        pca=report(
            REPORT_PATHS.study_plot("pca"),
            caption="captions/pca.rst",
            category="Study",
            labels={"figure": "PCA of VST counts"},
        ),
        distances=report(
            REPORT_PATHS.study_plot("sample_distances"),
            caption="captions/sample_distances.rst",
            category="Study",
            labels={"figure": "sample-to-sample distances"},
        ),
        pca_table=f"{OUTDIR}/qc/pca.tsv",
    log:
        f"{OUTDIR}/logs/plot_study.log",
    benchmark:
        f"{OUTDIR}/benchmarks/plot_study.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        plot=study_plot_params(),
        code=code("plot_study.py"),
    script:
        "../scripts/plot_study.py"


rule plot_analysis:
    input:
        features=rules.ingest.output.features,
        fits=fit_files,
        trend=analysis_trend,
        shrunk=shrink_files,
        shards=all_shard_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("plot_analysis", "{analysis}"),
    output:
        dispersion=report(
            REPORT_PATHS.analysis_plot("dispersion"),
            caption="captions/dispersion.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "dispersion estimates"},
        ),
        cooks=report(
            REPORT_PATHS.analysis_plot("cooks"),
            caption="captions/cooks.rst",
            category="{analysis}",
            subcategory="model",
            labels={"figure": "Cook's distances per sample"},
        ),
        # one folder per kind of plot, a PNG per result table (table_plot_params)
        ma=table_report("ma", "MA plot"),
        volcano=table_report("volcano", "volcano plot"),
        pvalues=table_report("pvalues", "p-value histogram"),
        counts=table_report("counts", "counts of the top genes"),
        top=top_genes_report("top genes table"),
    log:
        f"{OUTDIR}/logs/{{analysis}}/plot_analysis.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/plot_analysis.tsv"
    wildcard_constraints:
        analysis=NB_NAMES,
    priority: SOONER
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("plots"),
        model=analysis_model_params,
        tables=table_plot_params(NB_TABLE_PLOTS),
        top_genes=config["report"]["top_genes"],
        code=code("plot_analysis.py"),
    script:
        "../scripts/plot_analysis.py"


rule report:
    input:
        report_inputs,
        manifest=rules.ingest.output.manifest,
        features=rules.ingest.output.features,
        stamp=stamp("report"),
    output:
        f"{OUTDIR}/report.html",
    log:
        f"{OUTDIR}/logs/report.log",
    benchmark:
        f"{OUTDIR}/benchmarks/report.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        layout=REPORT_LAYOUT,
        study=report_study_rows(),
        code=code("report.py"),
    script:
        "../scripts/report.py"
