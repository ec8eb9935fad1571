rule trend:
    input:
        genewise=genewise_files,
        manifest=rules.ingest.output.manifest,
        samples=config["samples"],
        stamp=stamp("trend", "{analysis}"),
    output:
        f"{OUTDIR}/{{analysis}}/trend.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/trend.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/trend.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        analysis=analysis_params("trend"),
        code=code("trend.py"),
    script:
        "../scripts/trend.py"
