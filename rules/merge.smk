# The genome-wide step of the nb analyses that share a fit: one job per fit group (FIT_GROUPS)
# merges the fit shards and writes each analysis's result tables (independent filtering and
# Benjamini-Hochberg over all genes), dispersions.tsv, model.json and the report's summary.

for _key, _names in FIT_GROUPS.items():

    rule:
        name:
            f"merge_{group_name(_key)}"
        input:
            unpack(shared_sva_input(MODELS[_key[0]])),
            fits=group_fit_files(_key),
            trend=group_trend(_key),
            shrunk=group_shrink_files(_names),
            manifest=rules.ingest.output.manifest,
            features=rules.ingest.output.features,
            samples=config["samples"],
            stamps=[stamp("merge", name) for name in _names],
        output:
            group_merge_outputs(_names),
        log:
            f"{OUTDIR}/logs/models/{_key[0]}/{_key[1]}/merge.log",
        benchmark:
            f"{OUTDIR}/benchmarks/models/{_key[0]}/{_key[1]}/merge.tsv"
        priority: SOONER
        conda:
            "../envs/glmstack.yaml"
        params:
            analyses=group_jobs(_names, "tables", merge_outputs),
            code=code("merge.py"),
        script:
            "../scripts/merge.py"
