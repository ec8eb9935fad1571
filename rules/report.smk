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


# every plot of the nb analyses that share a fit (FIT_GROUPS), as rule merge_<group>: one job
for _key, _names in FIT_GROUPS.items():

    rule:
        name:
            f"plot_analysis_{group_name(_key)}"
        input:
            features=rules.ingest.output.features,
            fits=group_fit_files(_key),
            trend=group_trend(_key),
            shrunk=group_shrink_files(_names),
            shards=all_shard_files,
            manifest=rules.ingest.output.manifest,
            samples=config["samples"],
            stamps=[stamp("plot_analysis", name) for name in _names],
        output:
            group_plot_outputs(_names),
        log:
            f"{OUTDIR}/logs/models/{_key[0]}/{_key[1]}/plot_analysis.log",
        benchmark:
            f"{OUTDIR}/benchmarks/models/{_key[0]}/{_key[1]}/plot_analysis.tsv"
        priority: SOONER
        conda:
            "../envs/glmstack.yaml"
        params:
            analyses=group_jobs(_names, "plots", nb_plot_outputs),
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
