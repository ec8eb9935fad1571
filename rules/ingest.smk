# Read and check the feature matrix and write the feature shards (one pass): counts with size
# factors, or log-scale values (family gaussian) without; and features.tsv, the feature ids in
# input order with their annotation (the matrix's name columns, the study's `annotation:`).


if STUDY_INPUT != "values":

    checkpoint ingest:
        input:
            unpack(ingest_input),
            unpack(annotation_input),
            samples=config["samples"],
            stamp=stamp("ingest"),
        output:
            manifest=f"{OUTDIR}/manifest.json",
            shards=directory(f"{OUTDIR}/shards"),
            size_factors=f"{OUTDIR}/normalization/size_factors.tsv",
            features=f"{OUTDIR}/features.tsv",
        log:
            f"{OUTDIR}/logs/ingest.log",
        benchmark:
            f"{OUTDIR}/benchmarks/ingest.tsv"
        conda:
            "../envs/glmstack.yaml"
        threads: READ_THREADS
        params:
            settings=ingest_params(),
            code=code("ingest.py"),
        script:
            "../scripts/ingest.py"

else:

    checkpoint ingest:
        input:
            unpack(annotation_input),
            values=config["values"],
            samples=config["samples"],
            stamp=stamp("ingest"),
        output:
            manifest=f"{OUTDIR}/manifest.json",
            shards=directory(f"{OUTDIR}/shards"),
            features=f"{OUTDIR}/features.tsv",
        log:
            f"{OUTDIR}/logs/ingest.log",
        benchmark:
            f"{OUTDIR}/benchmarks/ingest.tsv"
        conda:
            "../envs/glmstack.yaml"
        threads: READ_THREADS
        params:
            settings=ingest_params(),
            code=code("ingest_values.py"),
        script:
            "../scripts/ingest_values.py"
