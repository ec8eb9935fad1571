# Read and check the feature matrix and write the feature shards (one pass): counts with size
# factors, or log-scale values (family gaussian) without.


if STUDY_INPUT != "values":

    checkpoint ingest:
        input:
            unpack(ingest_input),
            samples=config["samples"],
            stamp=stamp("ingest"),
        output:
            manifest=f"{OUTDIR}/manifest.json",
            shards=directory(f"{OUTDIR}/shards"),
            size_factors=f"{OUTDIR}/normalization/size_factors.tsv",
        log:
            f"{OUTDIR}/logs/ingest.log",
        benchmark:
            f"{OUTDIR}/benchmarks/ingest.tsv"
        conda:
            "../envs/glmstack.yaml"
        params:
            settings=ingest_params(),
            code=code("ingest.py"),
        script:
            "../scripts/ingest.py"

else:

    checkpoint ingest:
        input:
            values=config["values"],
            samples=config["samples"],
            stamp=stamp("ingest"),
        output:
            manifest=f"{OUTDIR}/manifest.json",
            shards=directory(f"{OUTDIR}/shards"),
        log:
            f"{OUTDIR}/logs/ingest.log",
        benchmark:
            f"{OUTDIR}/benchmarks/ingest.tsv"
        conda:
            "../envs/glmstack.yaml"
        params:
            settings=ingest_params(),
            code=code("ingest_values.py"),
        script:
            "../scripts/ingest_values.py"
