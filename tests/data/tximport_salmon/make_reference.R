#!/usr/bin/env Rscript
# Reference for glmstack's `quant:` input: R tximport 1.26 + DESeq2 1.38 on the salmon quant.sf
# files that IsoformSwitchAnalyzeR 1.20 ships (extdata/{hESC,iPS,Fibroblasts}_{0,1}; Vitting-Seerup
# & Sandelin 2019), transcripts mapped to genes by its example.gtf.gz (transcript_id -> gene_id).
# Whole set: 1092 transcripts, 375 genes, 6 samples. Run from this folder: Rscript make_reference.R
suppressPackageStartupMessages({library(tximport); library(DESeq2)})
dir.create("reference", showWarnings = FALSE)
samples <- read.delim("samples.tsv.gz", colClasses = "character")
files <- setNames(file.path("quant", samples$sample, "quant.sf.gz"), samples$sample)
tx2gene <- read.delim("tx2gene.tsv.gz", colClasses = "character")
coldata <- data.frame(condition = factor(samples$condition, levels = c("Fibroblasts", "hESC", "iPS")),
                      row.names = samples$sample)
write_table <- function(x, path, id = "gene_id") {
  out <- data.frame(id = rownames(x), as.data.frame(x), check.names = FALSE)
  names(out)[1] <- id
  num <- vapply(out, is.numeric, TRUE)
  out[num] <- lapply(out[num], signif, digits = 15)
  con <- gzfile(path, "w"); write.table(out, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA"); close(con)
}
# 1. tximport itself, for each countsFromAbundance
for (cfa in c("no", "scaledTPM", "lengthScaledTPM")) {
  txi <- tximport(files, type = "salmon", tx2gene = tx2gene, countsFromAbundance = cfa)
  for (what in c("counts", "abundance", "length"))
    write_table(txi[[what]], sprintf("reference/txi_%s_%s.tsv.gz", cfa, what))
}
# 2. DESeqDataSetFromTximport + DESeq (length offsets), and the same counts without offsets
txi <- tximport(files, type = "salmon", tx2gene = tx2gene)
run <- function(dds, name) {
  dds <- DESeq(dds)
  dir.create(file.path("reference", name), showWarnings = FALSE)
  for (num in c("hESC", "iPS")) {
    res <- results(dds, contrast = c("condition", num, "Fibroblasts"), alpha = 0.1)
    write_table(as.data.frame(res), sprintf("reference/%s/%s_vs_Fibroblasts.tsv.gz", name, num))
  }
  disp <- data.frame(baseMean = mcols(dds)$baseMean, dispGeneEst = mcols(dds)$dispGeneEst,
                     dispFit = mcols(dds)$dispFit, dispersion = mcols(dds)$dispersion,
                     dispOutlier = mcols(dds)$dispOutlier, maxCooks = mcols(dds)$maxCooks,
                     row.names = rownames(dds))
  write_table(disp, sprintf("reference/%s/dispersions.tsv.gz", name))
  write_table(counts(dds, normalized = TRUE), sprintf("reference/%s/normalized_counts.tsv.gz", name))
  if (!is.null(normalizationFactors(dds)))
    write_table(normalizationFactors(dds), sprintf("reference/%s/normalization_factors.tsv.gz", name))
  # fewer than 1000 genes with mean > 5: vst() refers to varianceStabilizingTransformation
  write_table(assay(varianceStabilizingTransformation(dds, blind = TRUE)),
              sprintf("reference/%s/vst_blind.tsv.gz", name))
  writeLines(c(sprintf("trend\t%s", paste(attr(dispersionFunction(dds), "coefficients"), collapse = ",")),
               sprintf("dispPriorVar\t%.15g", attr(dispersionFunction(dds), "dispPriorVar"))),
             sprintf("reference/%s/meta.tsv", name))
}
run(DESeqDataSetFromTximport(txi, coldata, ~ condition), "offsets")
# the "counts summed by hand" route: gene counts without DESeq2's length offsets
counts <- round(txi$counts); mode(counts) <- "integer"
run(DESeqDataSetFromMatrix(counts, coldata, ~ condition), "summed_counts")
writeLines(c(R.version.string, paste("tximport", packageVersion("tximport")),
             paste("DESeq2", packageVersion("DESeq2"))), "reference/versions.txt")
