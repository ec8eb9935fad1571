# Small-design reference cases: sample subsets of the public cases with 1 to 4 residual
# degrees of freedom (m - p), where DESeq2 estimates the dispersion prior variance by its
# set.seed(2) simulation (m - p <= 3). Each case keeps ALL genes of its parent case.
#
# R 4.2.2 + DESeq2 1.38.3 (Debian bookworm r-bioc-deseq2), r-cran-yaml, r-cran-jsonlite.
# Run from tests/data:  Rscript make_small_designs.R
# For each case it writes counts.tsv.gz, samples.tsv.gz, study.yaml, SOURCE.yaml, then reads
# the TSVs back from disk and writes reference/size_factors.tsv.gz and
# reference/<analysis>/{results,dispersions,design_matrix}.tsv.gz + meta.json, in the layout
# and with the conventions of the other cases (README.md): colData holds the design variables
# only, as factors with the level order of study.yaml; DESeq(dds, test, fitType, sfType);
# results(dds, contrast = c(factor, numerator, denominator), alpha); write.table's 15
# significant digits, NA for missing values.

suppressPackageStartupMessages({
  library(DESeq2)
  library(jsonlite)
  library(yaml)
})

CASES <- list(
  small_marioni_2v2 = list(
    parent = "marioni",
    samples = c("R1L1Kidney", "R2L2Kidney", "R1L2Liver", "R2L3Liver"),
    why = "2 kidney + 2 liver lanes, one of each tissue per sequencing run",
    sf_type = "ratio",
    analyses = list(
      tissue = list(design = "~ tissue", levels = list(tissue = c("Kidney", "Liver")),
                    contrast = c("tissue", "Liver", "Kidney"), name = "liver_vs_kidney"),
      run_tissue = list(design = "~ run + tissue",
                        levels = list(run = c("R1", "R2"), tissue = c("Kidney", "Liver")),
                        contrast = c("tissue", "Liver", "Kidney"), name = "liver_vs_kidney")
    )
  ),
  small_marioni_3v3 = list(
    parent = "marioni",
    samples = c("R1L1Kidney", "R1L3Kidney", "R2L2Kidney", "R1L2Liver", "R1L4Liver", "R2L3Liver"),
    why = "3 kidney + 3 liver lanes, two of each tissue from run R1 and one from run R2",
    sf_type = "ratio",
    analyses = list(
      tissue = list(design = "~ tissue", levels = list(tissue = c("Kidney", "Liver")),
                    contrast = c("tissue", "Liver", "Kidney"), name = "liver_vs_kidney"),
      run_tissue = list(design = "~ run + tissue",
                        levels = list(run = c("R1", "R2"), tissue = c("Kidney", "Liver")),
                        contrast = c("tissue", "Liver", "Kidney"), name = "liver_vs_kidney")
    )
  ),
  small_bodymap_3x2 = list(
    parent = "bodymap",
    samples = c("adipose.1", "adipose.2", "heart.1", "heart.2", "skeletal_muscle.1", "skeletal_muscle.2"),
    why = "3 tissues x their first 2 replicate libraries",
    sf_type = "ratio",
    analyses = list(
      tissue = list(design = "~ tissue",
                    levels = list(tissue = c("adipose", "heart", "skeletal_muscle")),
                    contrast = c("tissue", "heart", "skeletal_muscle"), name = "heart_vs_skeletal_muscle")
    )
  ),
  small_human_gender_2v2 = list(
    parent = "human_gender",
    samples = c("NA20502", "NA20504", "NA20509", "NA20510"),
    why = "the first 2 female and the first 2 male individuals of the sample sheet",
    sf_type = "ratio",
    analyses = list(
      sex = list(design = "~ sex", levels = list(sex = c("Female", "Male")),
                 contrast = c("sex", "Male", "Female"), name = "male_vs_female")
    )
  ),
  small_mouse_diet_paired = list(
    parent = "mouse_diet",
    samples = c("PM5:20080107", "PM5:20080121", "PM6:20080107", "PM6:20080121",
                "PM8:20080107", "PM8:20080121", "PM10:20080107", "PM10:20080121"),
    why = paste("4 mice of the switch arm, each on the BK diet at day 21 (2008-01-07) and on",
                "the Western diet at day 35 (2008-01-21)"),
    sf_type = "poscounts",
    analyses = list(
      paired_diet = list(design = "~ mouseID + diet",
                         levels = list(mouseID = c("PM5", "PM6", "PM8", "PM10"), diet = c("BK", "Western")),
                         contrast = c("diet", "Western", "BK"), name = "western_vs_bk")
    )
  )
)
ALPHA <- 0.1
FIT_TYPE <- "parametric"

read_tsv <- function(path, id) {
  classes <- setNames("character", id)
  read.delim(gzfile(path), check.names = FALSE, colClasses = classes, na.strings = "NA")
}
write_tsv_gz <- function(df, path) {
  con <- gzfile(path, "w")
  write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
  close(con)
}
quoted <- function(x) paste0("\"", x, "\"")
flow_list <- function(x) paste0("[", paste(quoted(x), collapse = ", "), "]")
r_code <- function(x) paste(deparse(x, width.cutoff = 500L), collapse = " ")

make_case <- function(case, spec) {
  parent <- spec$parent
  dir.create(file.path(case, "reference"), recursive = TRUE, showWarnings = FALSE)
  counts <- read_tsv(file.path(parent, "counts.tsv.gz"), "gene_id")
  samples <- read.delim(gzfile(file.path(parent, "samples.tsv.gz")), check.names = FALSE,
                        colClasses = "character")
  stopifnot(all(spec$samples %in% colnames(counts)), all(spec$samples %in% samples$sample))
  write_tsv_gz(counts[, c("gene_id", spec$samples)], file.path(case, "counts.tsv.gz"))
  write_tsv_gz(samples[match(spec$samples, samples$sample), ], file.path(case, "samples.tsv.gz"))

  study <- c("counts: counts.tsv.gz", "samples: samples.tsv.gz",
             paste0("size_factors_method: ", spec$sf_type), "analyses:")
  for (name in names(spec$analyses)) {
    a <- spec$analyses[[name]]
    levels <- paste(sprintf("%s: %s", names(a$levels), sapply(a$levels, flow_list)), collapse = ", ")
    study <- c(study, paste0("  ", name, ":"), paste0("    design: ", quoted(a$design)),
               paste0("    levels: {", levels, "}"), "    test: wald",
               paste0("    fit_type: ", FIT_TYPE), paste0("    alpha: ", ALPHA), "    contrasts:",
               paste0("      ", a$name, ": ", flow_list(a$contrast)))
  }
  writeLines(study, file.path(case, "study.yaml"))

  parent_source <- yaml::read_yaml(file.path(parent, "SOURCE.yaml"))
  source <- list(
    parent_case = parent,
    samples = spec$samples,
    selection = spec$why,
    notes = paste0("all genes of tests/data/", parent, ", only these samples (columns in this order); ",
                   "made by tests/data/make_small_designs.R"),
    debian_package = parent_source$debian_package,
    debian_version = parent_source$debian_version,
    publication = parent_source$publication,
    genes = nrow(counts),
    n_samples = length(spec$samples)
  )
  yaml::write_yaml(source, file.path(case, "SOURCE.yaml"))
}

run_analysis <- function(case, spec, name) {
  a <- spec$analyses[[name]]
  started <- proc.time()[["elapsed"]]
  # read back from disk, as a tool reading the case folder does
  counts_df <- read_tsv(file.path(case, "counts.tsv.gz"), "gene_id")
  counts <- as.matrix(counts_df[, -1, drop = FALSE])
  rownames(counts) <- counts_df$gene_id
  storage.mode(counts) <- "integer"
  samples <- read.delim(gzfile(file.path(case, "samples.tsv.gz")), check.names = FALSE,
                        colClasses = "character")
  coldata <- data.frame(row.names = samples$sample)
  for (v in names(a$levels)) coldata[[v]] <- factor(samples[[v]], levels = a$levels[[v]])
  design <- as.formula(a$design)

  calls <- c(
    sprintf("dds <- DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = %s)", a$design),
    sprintf("dds <- DESeq(dds, test = \"Wald\", fitType = \"%s\", sfType = \"%s\")", FIT_TYPE, spec$sf_type),
    sprintf("res <- results(dds, contrast = %s, alpha = %s)", r_code(a$contrast), ALPHA)
  )
  messages <- character(0)
  warnings <- character(0)
  capture <- function(expr) withCallingHandlers(expr,
    message = function(m) {
      messages <<- c(messages, sub("\n$", "", conditionMessage(m)))
      invokeRestart("muffleMessage")
    },
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  dds <- capture(DESeqDataSetFromMatrix(countData = counts, colData = coldata, design = design))
  dds <- capture(DESeq(dds, test = "Wald", fitType = FIT_TYPE, sfType = spec$sf_type))
  res <- capture(results(dds, contrast = a$contrast, alpha = ALPHA))
  seconds <- round(proc.time()[["elapsed"]] - started, 1)

  out <- file.path(case, "reference", name)
  dir.create(out, recursive = TRUE, showWarnings = FALSE)
  write_tsv_gz(data.frame(sample = colnames(dds), size_factor = unname(sizeFactors(dds))),
               file.path(case, "reference", "size_factors.tsv.gz"))
  mc <- mcols(dds)
  disp <- data.frame(gene_id = rownames(dds), baseMean = mc$baseMean, dispGeneEst = mc$dispGeneEst,
                     dispFit = mc$dispFit, dispersion = mc$dispersion, dispOutlier = mc$dispOutlier,
                     maxCooks = mc$maxCooks)
  if (!is.null(mc$replace)) disp$replace <- mc$replace
  write_tsv_gz(disp, file.path(out, "dispersions.tsv.gz"))
  write_tsv_gz(data.frame(gene_id = rownames(res), baseMean = res$baseMean,
                          log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE, stat = res$stat,
                          pvalue = res$pvalue, padj = res$padj),
               file.path(out, "results.tsv.gz"))
  mm <- model.matrix(design, coldata)
  write_tsv_gz(cbind(data.frame(sample = rownames(mm)), as.data.frame(mm, check.names = FALSE)),
               file.path(out, "design_matrix.tsv.gz"))

  fun <- dispersionFunction(dds)
  fit_type_used <- attr(fun, "fitType")
  coefs <- if (fit_type_used == "parametric") as.list(attr(fun, "coefficients"))
           else if (fit_type_used == "mean") list(mean = attr(fun, "mean")) else list()
  replace_counts <- assays(dds)[["replaceCounts"]]
  replaced <- if (is.null(replace_counts)) 0L else sum(counts(dds) != replace_counts)
  refers <- paste(a$contrast, collapse = ":")
  n_padj <- sum(res$padj < ALPHA, na.rm = TRUE)
  contrast_meta <- list(
    name = a$name, file = "results.tsv", call = calls[3], log2FoldChange_refers_to = refers,
    n_padj_lt_alpha = n_padj,
    `n_pvalue_lt_0.01` = sum(res$pvalue < 0.01, na.rm = TRUE),
    n_tested = sum(!is.na(res$pvalue)),
    n_padj_na_filtered = sum(is.na(res$padj) & !is.na(res$pvalue)),
    filterThreshold = unname(metadata(res)$filterThreshold),
    n_all_zero = sum(res$baseMean == 0),
    n_pvalue_na_nonzero = sum(is.na(res$pvalue) & res$baseMean > 0)
  )
  meta <- list(
    case = case, analysis = name,
    R_version = R.version.string, DESeq2_version = as.character(packageVersion("DESeq2")),
    calls = I(calls), test = "Wald", design = a$design, reduced = NULL,
    factor_levels = lapply(a$levels, I), sfType = spec$sf_type,
    fitType_requested = FIT_TYPE, fitType_used = fit_type_used,
    fitType_substituted_message = any(grepl("automatically substituted", messages)),
    alpha = ALPHA, lfcThreshold = 0, altHypothesis = "greaterAbs",
    log2FoldChange_refers_to = refers, n_padj_lt_alpha = n_padj, n_genes = nrow(dds),
    n_cooks_replaced = if (is.null(mc$replace)) 0L else sum(mc$replace, na.rm = TRUE),
    n_counts_replaced = replaced,
    n_replaceable_samples = if (is.null(mc$replace)) NULL else sum(DESeq2:::nOrMoreInCell(mm, 7)),
    minReplicatesForReplace = 7,
    n_dispOutlier = sum(mc$dispOutlier, na.rm = TRUE),
    n_maxCooks_na = sum(is.na(mc$maxCooks)),
    n_not_converged_beta = sum(!mc$betaConv, na.rm = TRUE),
    dispersionFunction_coefficients = coefs,
    dispPriorVar = attr(fun, "dispPriorVar"),
    varLogDispEsts = attr(fun, "varLogDispEsts"),
    design_matrix_columns = I(colnames(mm)),
    resultsNames = I(resultsNames(dds)),
    spline_bases = NULL,
    contrasts = list(contrast_meta),
    messages = I(messages), warnings = I(warnings), seconds = seconds
  )
  json <- jsonlite::toJSON(meta, auto_unbox = TRUE, null = "null", digits = NA, pretty = TRUE)
  writeLines(json, file.path(out, "meta.json"))
  cat(sprintf("%s/%s: m - p = %d, dispPriorVar %.17g, fitType %s, %d padj < %g, %.1f s\n", case, name,
              nrow(mm) - ncol(mm), attr(fun, "dispPriorVar"), fit_type_used, n_padj, ALPHA, seconds))
}

args <- commandArgs(trailingOnly = TRUE)
for (case in if (length(args)) args else names(CASES)) {
  make_case(case, CASES[[case]])
  for (name in names(CASES[[case]]$analyses)) run_analysis(case, CASES[[case]], name)
}
cat(R.version.string, "DESeq2", as.character(packageVersion("DESeq2")), "\n")
