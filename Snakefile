# glmstack: one regression per feature, sharded: DESeq2's negative-binomial GLM (counts)
# or limma's linear model with moderated statistics (log-scale values).
# Run: snakemake --cores N [--configfile study.yaml]


from snakemake.utils import min_version

min_version("9.6")


# A study given with --configfile replaces the bundled example instead of merging into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/ingest.smk"
include: "rules/dispersion.smk"
include: "rules/fit.smk"
include: "rules/shrink.smk"
include: "rules/merge.smk"
include: "rules/gaussian.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
