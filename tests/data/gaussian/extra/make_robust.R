# limma 3.54.1 references for robust empirical Bayes (Phipson et al. 2016; R 4.2.2). Run from
# this folder:   Rscript make_robust.R
# Writes
#   golub_robust.tsv.gz: per-feature df.prior, s2.prior, s2.post, t and P.Value of
#     eBayes(lmFit(E, ~ cell), robust = TRUE) and of eBayes(..., trend = TRUE, robust = TRUE);
#   robust_cases.tsv.gz: squeezeVar(var, df, covariate, robust = TRUE) on small constructed
#     inputs (one row per feature: case, var, df, covariate, df_prior, var_prior), and
#   rrbs_robust.tsv.gz: the same for rrbs_sle (~ cell + case, coefficient caseSLE; features with
#     missing values, so unequal residual df);
#   robust_outlier_df.tsv: fitFDistRobustly's df2 (bulk d0) and df2.outlier per case (NA where
#     d0 = inf), and fitFDist's df2.
suppressPackageStartupMessages(library(limma))
fmt <- function(d) { d[] <- lapply(d, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); d }
E <- as.matrix(read.delim(gzfile("../golub/values.tsv.gz"), row.names = 1, check.names = FALSE))
s <- read.delim(gzfile("../golub/samples.tsv.gz"), colClasses = "character")
cell <- factor(s$cell, levels = c("ALL", "AML"))
fit <- lmFit(E[, s$sample], model.matrix(~ cell))
r <- eBayes(fit, robust = TRUE)
rt <- eBayes(fit, trend = TRUE, robust = TRUE)
out <- data.frame(feature_id = rownames(E),
                  df_prior = r$df.prior, s2_prior = r$s2.prior, s2_post = r$s2.post,
                  t = r$t[, 2], P.Value = r$p.value[, 2],
                  trend_df_prior = rt$df.prior, trend_s2_prior = rt$s2.prior, trend_s2_post = rt$s2.post,
                  trend_t = rt$t[, 2], trend_P.Value = rt$p.value[, 2])
con <- gzfile("golub_robust.tsv.gz", "w")
write.table(fmt(out), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)

# rrbs_sle (M-values with NAs: residual df 1 to 13): eBayes(lmFit(M, ~ cell + case), robust = TRUE)
M <- as.matrix(read.delim(gzfile("../rrbs_sle/values.tsv.gz"), row.names = 1, check.names = FALSE))
s <- read.delim(gzfile("../rrbs_sle/samples.tsv.gz"), colClasses = "character")
design <- model.matrix(~ factor(s$cell, levels = c("rN", "aN")) + factor(s$case, levels = c("HC", "SLE")))
fit <- lmFit(M[, s$sample], design)
r <- eBayes(fit, robust = TRUE)
rt <- eBayes(fit, trend = TRUE, robust = TRUE)
out <- data.frame(feature_id = rownames(M), df_residual = fit$df.residual,
                  df_prior = r$df.prior, s2_prior = r$s2.prior, t = r$t[, 3], P.Value = r$p.value[, 3],
                  trend_df_prior = rt$df.prior, trend_s2_prior = rt$s2.prior, trend_t = rt$t[, 3],
                  trend_P.Value = rt$p.value[, 3])
con <- gzfile("rrbs_robust.tsv.gz", "w")
write.table(fmt(out), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)

cases <- list()
add <- function(label, x, d, covariate = NULL) {
  sv <- suppressWarnings(squeezeVar(x, d, covariate = covariate, robust = TRUE))
  d <- rep_len(d, length(x))
  ok <- is.finite(x) & d > 0
  f <- suppressWarnings(fitFDistRobustly(x[ok], d[ok], covariate = covariate[ok]))
  cases[[label]] <<- list(
    rows = data.frame(case = label, var = x, df = d, covariate = if (is.null(covariate)) NA else covariate,
                      df_prior = sv$df.prior, var_prior = sv$var.prior),
    summary = data.frame(case = label, df2 = f$df2, df2_outlier = if (is.null(f$df2.outlier)) NA else f$df2.outlier,
                         df2_nonrobust = suppressWarnings(fitFDist(x[ok], d[ok], covariate = covariate[ok]))$df2))
}
set.seed(1); x <- rchisq(500, 2) / 2 * exp(rnorm(500, sd = 0.5)); x[1:2] <- x[1:2] * 5
add("raised", x, 2)  # the robust d0 is below the non-robust one and is raised to it
set.seed(4); x <- rchisq(37, 3) / 3 * exp(rnorm(37, sd = 0.5)); x[1:5] <- x[1:5] * 20
add("small", x, 3)
set.seed(5); x <- rchisq(100, 4) / 4 * exp(rnorm(100, sd = 0.5)); x[1] <- x[1] * 50
add("one_outlier", x, 4)
set.seed(11); x <- rchisq(200, 4) / 4 * exp(rnorm(200, sd = 0.5)); x[1] <- 1e300
add("underflow", x, 4)  # the largest variance's tail probability underflows
set.seed(12); x <- rchisq(200, 4) / 4 * exp(rnorm(200, sd = 0.5)); x[1:5] <- NA; x[6:8] <- 0; x[9:11] <- x[9:11] * 30
add("na_zero", x, 4)  # no variance (NA), zero variances (offset)
set.seed(101); a <- runif(300, 2, 12)
x <- rchisq(300, 4) / 4 * exp(rnorm(300, sd = 0.4)) * exp(-0.3 * a + 0.02 * a^2); x[1:4] <- x[1:4] * 30
add("trend", x, 4, a)
set.seed(103); a <- runif(150, 2, 12)
x <- rchisq(150, 3) / 3 * exp(rnorm(150, sd = 0.4)) * exp(-0.3 * a + 0.02 * a^2); x[1:4] <- x[1:4] * 30
x[c(5, 50, which.min(a), which.max(a))] <- NA
add("trend_na", x, 3, a)  # features without a variance, two at the covariate's ends
set.seed(14); x <- rchisq(300, 4) / 4
add("inf", x, 4)  # d0 = inf (robust and not): outliers get (1 - prob.outlier) times the pooled df
set.seed(4); x <- rchisq(500, 3) / 3
add("inf_d3", x, 3)
set.seed(4); x <- rchisq(300, 4) / 4
add("inf_non_robust", x, 4)  # finite robust d0 raised to the non-robust d0 = inf: the non-robust prior
set.seed(9); x <- rchisq(9, 4) / 4 * exp(rnorm(9, sd = 0.8)); x[1] <- x[1] * 10
add("nine", x, 4)  # fewer than 10 features: the non-robust prior
set.seed(10); x <- rchisq(10, 4) / 4 * exp(rnorm(10, sd = 0.8)); x[1] <- x[1] * 10
add("ten", x, 4)
# Unequal residual df (features with missing values)
set.seed(7); d <- rep(c(4, 2, 6, 4), length.out = 400)
x <- rchisq(400, d) / d * exp(rnorm(400, sd = 0.5)); x[1:3] <- x[1:3] * 20
add("mixed_df", x, d)
set.seed(8); a <- runif(400, 2, 12); d <- rep(c(5, 3, 5, 4), length.out = 400)
x <- rchisq(400, d) / d * exp(rnorm(400, sd = 0.4)) * exp(-0.3 * a + 0.02 * a^2); x[1:3] <- x[1:3] * 30; x[4] <- x[4] * 1e4
add("mixed_df_trend", x, d, a)
set.seed(9); d <- rep(c(6, 3), length.out = 300); x <- rchisq(300, d) / d; x[1:2] <- x[1:2] * 8
add("mixed_df_inf", x, d)
rows <- do.call(rbind, lapply(cases, `[[`, "rows"))
con <- gzfile("robust_cases.tsv.gz", "w")
write.table(fmt(rows), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)
summ <- do.call(rbind, lapply(cases, `[[`, "summary"))
write.table(fmt(summ), "robust_outlier_df.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
