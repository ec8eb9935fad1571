# glmstack: one regression per feature, sharded: DESeq2's negative-binomial GLM (counts)
# or limma's linear model with moderated statistics (log-scale values).
# Run: snakemake --cores N [tables] [--configfile study.yaml]   (tables: no plots, no report)


from snakemake.utils import min_version

min_version("9.6")


# A study given with --configfile replaces the bundled example instead of merging into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/ingest.smk"
include: "rules/sva.smk"
include: "rules/dispersion.smk"
include: "rules/fit.smk"
include: "rules/shrink.smk"
include: "rules/merge.smk"
include: "rules/normalization.smk"
include: "rules/gaussian.smk"
include: "rules/reverse.smk"
include: "rules/report.smk"


# Exit as soon as the last job ends (glmstack.workflow.exit_promptly says why).
onsuccess:
    exit_promptly()


onerror:
    exit_promptly()


rule all:
    default_target: True
    input:
        all_outputs(),


# The result tables, dispersions.tsv and model.json of every analysis, without plots or report.
rule tables:
    input:
        table_outputs(),
