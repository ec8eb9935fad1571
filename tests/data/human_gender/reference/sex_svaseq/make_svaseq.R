# svaseq reference for glmstack (tests/golden/test_sva_reference.py): human_gender, ~ sex.
#   Rscript make_svaseq.R        (writes beside this script; R 4.2.2, DESeq2 1.38.3, sva 3.46.0)
# The counts as read back from ../../counts.tsv.gz; DESeq2's size factors; svaseq on the
# normalised counts with mean > 1 (the DESeq2 vignette's filter), i.e. log(x + 1) inside svaseq;
# then DESeq2 with ~ SV1 + ... + SVk + sex.
suppressPackageStartupMessages({ library(DESeq2); library(sva); library(jsonlite) })
here <- local({
  f <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(f)) dirname(normalizePath(sub("^--file=", "", f[1]))) else getwd()
})
case <- file.path(here, "..", "..")
counts <- read.delim(gzfile(file.path(case, "counts.tsv.gz")), check.names = FALSE,
                     colClasses = c(gene_id = "character"))
rownames(counts) <- counts$gene_id; counts <- as.matrix(counts[, -1])
samples <- read.delim(gzfile(file.path(case, "samples.tsv.gz")), colClasses = "character")
samples$sex <- factor(samples$sex, levels = c("Female", "Male"))
counts <- counts[, samples$sample]
dds <- DESeqDataSetFromMatrix(counts, samples, ~ sex)
dds <- estimateSizeFactors(dds)
dat <- counts(dds, normalized = TRUE)
idx <- rowMeans(dat) > 1
dat <- dat[idx, ]
mod <- model.matrix(~ sex, colData(dds))
mod0 <- model.matrix(~ 1, colData(dds))
n_be <- num.sv(log(dat + 1), mod, method = "be", seed = 20251126)
n_leek <- num.sv(log(dat + 1), mod, method = "leek")
svseq <- svaseq(dat, mod, mod0, n.sv = n_be)
sv <- svseq$sv; if (is.null(dim(sv))) sv <- matrix(sv, ncol = 1)
colnames(sv) <- paste0("SV", seq_len(ncol(sv)))
fmt <- function(x) formatC(x, digits = 15, format = "g")
tab <- data.frame(sample = samples$sample, apply(sv, 2, fmt), check.names = FALSE)
write.table(tab, gzfile(file.path(here, "surrogate_variables.tsv.gz")), sep = "\t", quote = FALSE, row.names = FALSE)
dds_sv <- dds
for (j in seq_len(ncol(sv))) colData(dds_sv)[[colnames(sv)[j]]] <- sv[, j]
design(dds_sv) <- as.formula(paste("~", paste(colnames(sv), collapse = " + "), "+ sex"))
dds_sv <- DESeq(dds_sv, quiet = TRUE)
res <- results(dds_sv, contrast = c("sex", "Male", "Female"), alpha = 0.1)
out <- data.frame(gene_id = rownames(res), baseMean = fmt(res$baseMean), log2FoldChange = fmt(res$log2FoldChange),
                  lfcSE = fmt(res$lfcSE), stat = fmt(res$stat), pvalue = fmt(res$pvalue), padj = fmt(res$padj))
out[out == " NA" | out == "NA"] <- NA
write.table(out, gzfile(file.path(here, "results.tsv.gz")), sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
meta <- list(
  versions = list(R = R.version.string, DESeq2 = as.character(packageVersion("DESeq2")),
                  sva = as.character(packageVersion("sva"))),
  calls = paste("dds <- estimateSizeFactors(DESeqDataSetFromMatrix(counts, samples, ~ sex));",
                "dat <- counts(dds, normalized = TRUE); dat <- dat[rowMeans(dat) > 1, ];",
                "n <- num.sv(log(dat + 1), mod, method = 'be', seed = 20251126);",
                "sv <- svaseq(dat, mod, mod0 = ~ 1, n.sv = n)$sv;",
                "DESeq(dds with design ~ SV1 + ... + SVk + sex); results(contrast = c('sex', 'Male', 'Female'), alpha = 0.1)"),
  features_used = sum(idx), n_sv_be = n_be, n_sv_leek = n_leek, seed = 20251126,
  resultsNames = resultsNames(dds_sv), n_padj_below_0.1 = sum(res$padj < 0.1, na.rm = TRUE))
write(toJSON(meta, auto_unbox = TRUE, pretty = TRUE, digits = NA), file.path(here, "meta.json"))
