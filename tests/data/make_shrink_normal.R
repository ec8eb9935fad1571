# DESeq2 1.38's lfcShrink(type = "normal") on one analysis of a reference case: the reference
# for glmstack's `lfc_shrink: normal` (tests/golden/test_lfc_shrink.py).
#
# R 4.2.2 + DESeq2 1.38.3 (Debian bookworm r-bioc-deseq2), r-cran-yaml, r-cran-jsonlite.
# Run from tests/data:  Rscript make_shrink_normal.R <case> <analysis>
# Reads the case's counts.tsv.gz / samples.tsv.gz back from disk and its study.yaml (design,
# levels, sfType, fitType, contrasts), runs DESeq() as the case's other references do (colData =
# the design variables, factors in the level order of study.yaml), then for each contrast:
#   [factor, num, den] -> lfcShrink(dds, contrast = c(factor, num, den), type = "normal")
#   {coef: NAME}       -> lfcShrink(dds, coef = NAME, type = "normal")
# and writes <case>/reference/<analysis>_shrink_normal/<contrast>.tsv.gz (gene_id, baseMean,
# log2FoldChange and lfcSE of the shrunken fit) and meta.json (calls, betaPriorVar of each
# contrast's fit). write.table's 15 significant digits, NA for missing values.

suppressPackageStartupMessages({
  library(DESeq2)
  library(jsonlite)
  library(yaml)
})

args <- commandArgs(trailingOnly = TRUE)
case <- args[1]
name <- args[2]
study <- yaml::read_yaml(file.path(case, "study.yaml"))
a <- study$analyses[[name]]
sf_type <- if (is.null(study$size_factors_method)) "ratio" else study$size_factors_method

write_tsv_gz <- function(df, path) {
  con <- gzfile(path, "w")
  write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
  close(con)
}

counts_df <- read.delim(gzfile(file.path(case, "counts.tsv.gz")), check.names = FALSE,
                        colClasses = c(gene_id = "character"))
counts <- as.matrix(counts_df[, -1, drop = FALSE])
rownames(counts) <- counts_df$gene_id
storage.mode(counts) <- "integer"
samples <- read.delim(gzfile(file.path(case, "samples.tsv.gz")), check.names = FALSE,
                      colClasses = "character")
design <- as.formula(a$design)
coldata <- data.frame(row.names = samples$sample)
for (v in all.vars(design)) {
  if (!is.null(a$levels[[v]])) {
    coldata[[v]] <- factor(samples[[v]], levels = unlist(a$levels[[v]]))
  } else {
    coldata[[v]] <- as.numeric(samples[[v]])
  }
}
counts <- counts[, rownames(coldata)]

started <- proc.time()[["elapsed"]]
dds <- DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = design)
dds <- DESeq(dds, test = "Wald", fitType = a$fit_type, sfType = sf_type, quiet = TRUE)

out <- file.path(case, "reference", paste0(name, "_shrink_normal"))
dir.create(out, recursive = TRUE, showWarnings = FALSE)
calls <- c(
  sprintf("dds <- DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = %s)", a$design),
  sprintf("dds <- DESeq(dds, test = \"Wald\", fitType = \"%s\", sfType = \"%s\")", a$fit_type, sf_type)
)
contrasts <- list()
for (cname in names(a$contrasts)) {
  spec <- a$contrasts[[cname]]
  if (is.list(spec) && !is.null(spec$coef)) {
    call <- sprintf("shr <- lfcShrink(dds, coef = \"%s\", type = \"normal\")", spec$coef)
    shr <- lfcShrink(dds, coef = spec$coef, type = "normal", quiet = TRUE)
  } else {
    spec <- unlist(spec)
    call <- sprintf("shr <- lfcShrink(dds, contrast = c(\"%s\"), type = \"normal\")", paste(spec, collapse = "\", \""))
    shr <- lfcShrink(dds, contrast = spec, type = "normal", quiet = TRUE)
  }
  write_tsv_gz(data.frame(gene_id = rownames(shr), baseMean = shr$baseMean,
                          log2FoldChange = shr$log2FoldChange, lfcSE = shr$lfcSE),
               file.path(out, paste0(cname, ".tsv.gz")))
  prior <- priorInfo(shr)$betaPriorVar
  contrasts[[cname]] <- list(call = call, file = paste0(cname, ".tsv.gz"),
                             betaPriorVar = as.list(prior))
}
meta <- list(
  case = case, analysis = name,
  R_version = R.version$version.string,
  DESeq2_version = as.character(packageVersion("DESeq2")),
  calls = calls, contrasts = contrasts,
  n_cooks_replaced = sum(mcols(dds)$replace, na.rm = TRUE),
  seconds = round(proc.time()[["elapsed"]] - started, 1)
)
writeLines(jsonlite::toJSON(meta, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           file.path(out, "meta.json"))
