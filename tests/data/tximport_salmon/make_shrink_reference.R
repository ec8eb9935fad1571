#!/usr/bin/env Rscript
# lfcShrink(type = "normal") with DESeq2's length offsets (DESeqDataSetFromTximport), for
# glmstack's `lfc_shrink: normal` on a `quant:` study. R 4.2.2, tximport 1.26, DESeq2 1.38.
# Run from this folder: Rscript make_shrink_reference.R
suppressPackageStartupMessages({library(tximport); library(DESeq2)})
samples <- read.delim("samples.tsv.gz", colClasses = "character")
files <- setNames(file.path("quant", samples$sample, "quant.sf.gz"), samples$sample)
tx2gene <- read.delim("tx2gene.tsv.gz", colClasses = "character")
coldata <- data.frame(condition = factor(samples$condition, levels = c("Fibroblasts", "hESC", "iPS")),
                      row.names = samples$sample)
dds <- DESeq(DESeqDataSetFromTximport(tximport(files, type = "salmon", tx2gene = tx2gene), coldata, ~ condition))
for (num in c("hESC", "iPS")) {
  res <- lfcShrink(dds, contrast = c("condition", num, "Fibroblasts"), type = "normal", quiet = TRUE)
  out <- data.frame(gene_id = rownames(res), log2FoldChange = signif(res$log2FoldChange, 15),
                    lfcSE = signif(res$lfcSE, 15))
  con <- gzfile(sprintf("reference/offsets/shrink_normal_%s_vs_Fibroblasts.tsv.gz", num), "w")
  write.table(out, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
  close(con)
}
