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

# Edge cases of lmFit/eBayes: df 0, no observation, an inestimable coefficient (edge_values.tsv,
# edge_fit.tsv). Design ~ g with g = a a a a b b b b.
set.seed(3)
E <- matrix(rnorm(40 * 8), 40, 8); E[1:20, 5:8] <- E[1:20, 5:8] + 1
E[1, 3:8] <- NA   # two samples of group a: gb inestimable, df 1
E[2, ] <- NA      # no observation
E[3, 5:8] <- NA   # group b missing: gb inestimable
E[4, 2:7] <- NA   # one sample per group: df 0
g <- factor(rep(c("a", "b"), each = 4))
write.table(as.data.frame(E), "edge_values.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
E <- as.matrix(read.delim("edge_values.tsv"))  # computed from the values as written
fit <- suppressWarnings(eBayes(lmFit(E, model.matrix(~ g))))
edge <- data.frame(coef = fit$coefficients[, 2], sigma = fit$sigma, df_residual = fit$df.residual,
                   s2_post = fit$s2.post, t = fit$t[, 2], P.Value = fit$p.value[, 2], B = fit$lods[, 2],
                   Amean = fit$Amean, df_prior = fit$df.prior, s2_prior = fit$s2.prior)
write.table(edge, "edge_fit.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
