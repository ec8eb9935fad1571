rule trend:
    input:
        genewise=genewise_files,
        manifest=f"{OUTDIR}/manifest.json",
        samples=config["samples"],
    output:
        f"{OUTDIR}/{{analysis}}/trend.json",
    log:
        f"{OUTDIR}/logs/{{analysis}}/trend.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{{analysis}}/trend.tsv"
    conda:
        "../envs/glmstack.yaml"
    params:
        model=trend_params,
        code=GLMSTACK_CODE_HASH,
    script:
        "../scripts/trend.py"
