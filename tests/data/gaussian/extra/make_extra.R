# Extra limma 3.54.1 references for glmstack's unit tests (R 4.2.2). Run from this folder:
#   Rscript make_extra.R
# Writes golub_trend.tsv.gz: eBayes(lmFit(E, ~ cell), trend = TRUE) (limma-trend, not robust),
# and fitfdist.tsv: fitFDist / squeezeVar on small constructed inputs.
suppressPackageStartupMessages(library(limma))
E <- as.matrix(read.delim(gzfile("../golub/values.tsv.gz"), row.names = 1, check.names = FALSE))
s <- read.delim(gzfile("../golub/samples.tsv.gz"), colClasses = "character")
cell <- factor(s$cell, levels = c("ALL", "AML"))
fit <- eBayes(lmFit(E[, s$sample], model.matrix(~ cell)), trend = TRUE)
tt <- topTable(fit, coef = "cellAML", number = Inf, sort.by = "none")
out <- data.frame(feature_id = rownames(E), t = tt$t, P.Value = tt$P.Value, B = tt$B,
                  s2_prior = fit$s2.prior, df_prior = fit$df.prior, s2_post = fit$s2.post)
con <- gzfile("golub_trend.tsv.gz", "w")
write.table(format(out, digits = 15), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)

set.seed(2)
x <- 0.5 * rchisq(200, 4) / 4 * exp(rnorm(200, sd = 0.8))
row <- function(label, x, d) {
  f <- fitFDist(x, d)
  data.frame(label = label, scale = format(f$scale, digits = 15), df2 = format(f$df2, digits = 15))
}
x0 <- x; x0[1:3] <- 0
d0 <- rep(4, 200); d0[1:2] <- 0
dm <- c(rep(4, 100), rep(2, 100))
res <- rbind(row("plain", x, 4), row("zeros", x0, 4), row("df_zero", x, d0), row("mixed_df", x, dm),
             row("constant", rep(1, 50), 4))
write.table(res, "fitfdist.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(x = format(x, digits = 17)), "fitfdist_x.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
