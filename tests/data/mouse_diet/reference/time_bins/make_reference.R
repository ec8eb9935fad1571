# R DESeq2 reference for mouse_diet / time_bins: relativeTime binned into tertiles.
#
#   Rscript tests/data/mouse_diet/reference/time_bins/make_reference.R [case_dir]
#
# case_dir defaults to the case folder two levels above this script (tests/data/mouse_diet).
# Reads counts.tsv.gz and samples.tsv.gz back from disk, builds colData with only the design
# variables (mouseID as a factor, time_group from cut() of relativeTime at its type-7 tertiles),
# runs DESeq2 and writes results.tsv.gz, results.middle_vs_early.tsv.gz, dispersions.tsv.gz,
# design_matrix.tsv.gz, meta.json (and cooks_replaced_counts.tsv.gz if DESeq2 replaced counts)
# into reference/time_bins/, in the layout of the other references (tests/data/README.md).
# Needs R 4.2 with DESeq2 1.38 and jsonlite (Debian bookworm: r-bioc-deseq2 r-cran-jsonlite).

suppressPackageStartupMessages({
  library(DESeq2)
  library(jsonlite)
})

script_dir <- function() {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 0) return(getwd())
  dirname(normalizePath(sub("^--file=", "", file_arg[1])))
}

args <- commandArgs(trailingOnly = TRUE)
case_dir <- if (length(args) >= 1) normalizePath(args[1]) else normalizePath(file.path(script_dir(), "..", ".."))
out_dir <- file.path(case_dir, "reference", "time_bins")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

case_name <- "mouse_diet"
analysis <- "time_bins"
alpha <- 0.1
min_replicates <- 7
mouse_levels <- paste0("PM", 1:12)
bin_labels <- c("Q1", "Q2", "Q3")
design_text <- "~ mouseID + time_group"

# ---- data, as read back from disk ------------------------------------------------------------
counts_df <- read.delim(gzfile(file.path(case_dir, "counts.tsv.gz")), check.names = FALSE,
                        colClasses = c(gene_id = "character"))
samples <- read.delim(gzfile(file.path(case_dir, "samples.tsv.gz")), check.names = FALSE,
                      colClasses = c(sample = "character"))
counts <- as.matrix(counts_df[, -1, drop = FALSE])
rownames(counts) <- counts_df$gene_id
stopifnot(is.integer(counts), !anyDuplicated(rownames(counts)),
          setequal(colnames(counts), samples$sample))
samples <- samples[match(colnames(counts), samples$sample), , drop = FALSE]

# ---- bins: R type-7 quantiles, right-closed intervals, lowest value included ------------------
bin_calls <- c(
  "breaks <- quantile(samples$relativeTime, seq(0, 1, length = 3 + 1), type = 7)",
  "coldata$time_group <- cut(samples$relativeTime, breaks, right = TRUE, include.lowest = TRUE, labels = c(\"Q1\", \"Q2\", \"Q3\"))"
)
breaks <- quantile(samples$relativeTime, seq(0, 1, length = 3 + 1), type = 7)
time_group <- cut(samples$relativeTime, breaks, right = TRUE, include.lowest = TRUE, labels = bin_labels)
stopifnot(!anyNA(time_group), identical(levels(time_group), bin_labels))

coldata <- data.frame(
  mouseID = factor(samples$mouseID, levels = mouse_levels),
  time_group = time_group,
  row.names = samples$sample,
  check.names = FALSE
)
stopifnot(!anyNA(coldata$mouseID))

# ---- DESeq2 ----------------------------------------------------------------------------------
contrasts <- list(
  list(name = "late_vs_early", file = "results.tsv", contrast = c("time_group", "Q3", "Q1")),
  list(name = "middle_vs_early", file = "results.middle_vs_early.tsv", contrast = c("time_group", "Q2", "Q1"))
)
deparse_contrast <- function(v) paste0("c(", paste0("\"", v, "\"", collapse = ", "), ")")
results_call <- function(ct) sprintf("res <- results(dds, contrast = %s, alpha = %s)", deparse_contrast(ct$contrast), alpha)
calls <- c(
  sprintf("dds <- DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = %s)", design_text),
  "dds <- DESeq(dds, test = \"Wald\", fitType = \"parametric\", sfType = \"poscounts\")",
  results_call(contrasts[[1]])
)

messages <- character(0)
warnings_seen <- character(0)
capture <- function(expr) {
  withCallingHandlers(expr,
    message = function(m) {
      messages <<- c(messages, sub("\n$", "", conditionMessage(m)))
    },
    warning = function(w) {
      warnings_seen <<- c(warnings_seen, conditionMessage(w))
    })
}

started <- proc.time()[["elapsed"]]
res_list <- capture({
  dds <- DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = ~ mouseID + time_group)
  dds <- DESeq(dds, test = "Wald", fitType = "parametric", sfType = "poscounts")
  lapply(contrasts, function(ct) results(dds, contrast = ct$contrast, alpha = alpha))
})
seconds <- round(proc.time()[["elapsed"]] - started, 1)

# ---- tables ----------------------------------------------------------------------------------
write_tsv_gz <- function(df, name) {
  con <- gzfile(file.path(out_dir, paste0(name, ".gz")), "w")
  on.exit(close(con))
  write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE, col.names = TRUE, na = "NA")
}

gene_id <- rownames(dds)
stopifnot(identical(gene_id, counts_df$gene_id))
mc <- mcols(dds)

for (i in seq_along(contrasts)) {
  res <- res_list[[i]]
  stopifnot(identical(rownames(res), gene_id))
  write_tsv_gz(data.frame(gene_id = gene_id, baseMean = res$baseMean, log2FoldChange = res$log2FoldChange,
                          lfcSE = res$lfcSE, stat = res$stat, pvalue = res$pvalue, padj = res$padj,
                          check.names = FALSE),
               contrasts[[i]]$file)
}

disp <- data.frame(gene_id = gene_id, baseMean = mc$baseMean, dispGeneEst = mc$dispGeneEst,
                   dispFit = mc$dispFit, dispersion = mc$dispersion, dispOutlier = mc$dispOutlier,
                   maxCooks = mc$maxCooks, check.names = FALSE)
if ("replace" %in% names(mc)) disp$replace <- mc$replace
write_tsv_gz(disp, "dispersions.tsv")

mm <- model.matrix(design(dds), as.data.frame(colData(dds)))
write_tsv_gz(data.frame(sample = colnames(dds), mm, check.names = FALSE), "design_matrix.tsv")

n_counts_replaced <- 0L
if ("replaceCounts" %in% assayNames(dds)) {
  original <- counts(dds)
  replaced <- assays(dds)[["replaceCounts"]]
  changed <- which(original != replaced, arr.ind = TRUE)
  changed <- changed[order(changed[, "row"], changed[, "col"]), , drop = FALSE]
  n_counts_replaced <- nrow(changed)
  if (n_counts_replaced > 0) {
    write_tsv_gz(data.frame(gene_id = gene_id[changed[, "row"]], sample = colnames(dds)[changed[, "col"]],
                            count = original[changed], replacement = replaced[changed], check.names = FALSE),
                 "cooks_replaced_counts.tsv")
  }
}

# ---- meta.json -------------------------------------------------------------------------------
disp_fun <- dispersionFunction(dds)
fit_type_used <- attr(disp_fun, "fitType")
coefs <- attr(disp_fun, "coefficients")
disp_coefs <- if (identical(fit_type_used, "parametric")) {
  list(asymptDisp = unname(coefs[["asymptDisp"]]), extraPois = unname(coefs[["extraPois"]]))
} else if (identical(fit_type_used, "mean")) {
  list(mean = unname(attr(disp_fun, "mean")))
} else {
  list()
}

contrast_meta <- lapply(seq_along(contrasts), function(i) {
  ct <- contrasts[[i]]
  res <- res_list[[i]]
  list(
    name = ct$name,
    file = ct$file,
    call = results_call(ct),
    log2FoldChange_refers_to = paste(ct$contrast, collapse = ":"),
    n_padj_lt_alpha = sum(res$padj < alpha, na.rm = TRUE),
    `n_pvalue_lt_0.01` = sum(res$pvalue < 0.01, na.rm = TRUE),
    n_tested = sum(!is.na(res$pvalue)),
    n_padj_na_filtered = sum(is.na(res$padj) & !is.na(res$pvalue)),
    filterThreshold = unname(metadata(res)$filterThreshold),
    n_all_zero = sum(mc$allZero),
    n_pvalue_na_nonzero = sum(is.na(res$pvalue) & !mc$allZero)
  )
})

bin_counts <- table(time_group)
bin_intervals <- levels(cut(samples$relativeTime, breaks, right = TRUE, include.lowest = TRUE))

meta <- list(
  case = case_name,
  analysis = analysis,
  R_version = R.version.string,
  DESeq2_version = as.character(packageVersion("DESeq2")),
  calls = I(calls),
  test = "Wald",
  design = design_text,
  reduced = NULL,
  factor_levels = list(mouseID = I(levels(coldata$mouseID)), time_group = I(levels(coldata$time_group))),
  sfType = "poscounts",
  fitType_requested = "parametric",
  fitType_used = fit_type_used,
  fitType_substituted_message = any(grepl("substituted", messages)),
  alpha = alpha,
  lfcThreshold = 0,
  altHypothesis = "greaterAbs",
  log2FoldChange_refers_to = contrast_meta[[1]]$log2FoldChange_refers_to,
  n_padj_lt_alpha = contrast_meta[[1]]$n_padj_lt_alpha,
  n_genes = nrow(dds),
  n_cooks_replaced = if ("replace" %in% names(mc)) sum(mc$replace, na.rm = TRUE) else 0L,
  n_counts_replaced = n_counts_replaced,
  n_replaceable_samples = if (is.null(dds$replaceable)) NULL else sum(dds$replaceable),
  minReplicatesForReplace = min_replicates,
  n_dispOutlier = sum(mc$dispOutlier, na.rm = TRUE),
  n_maxCooks_na = sum(is.na(mc$maxCooks)),
  n_not_converged_beta = sum(!mc$betaConv, na.rm = TRUE),
  dispersionFunction_coefficients = disp_coefs,
  dispPriorVar = attr(disp_fun, "dispPriorVar"),
  varLogDispEsts = attr(disp_fun, "varLogDispEsts"),
  design_matrix_columns = I(colnames(mm)),
  resultsNames = I(resultsNames(dds)),
  spline_bases = NULL,
  bins = list(time_group = list(
    column = "relativeTime",
    quantiles = 3L,
    calls = I(bin_calls),
    breaks = I(unname(as.numeric(breaks))),
    labels = I(bin_labels),
    intervals = I(bin_intervals),
    n_samples = as.list(setNames(as.integer(bin_counts), names(bin_counts)))
  )),
  contrasts = contrast_meta,
  messages = I(messages),
  warnings = I(warnings_seen),
  seconds = seconds
)

json <- toJSON(meta, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null", na = "null")
writeLines(json, file.path(out_dir, "meta.json"))
message("wrote ", out_dir)
