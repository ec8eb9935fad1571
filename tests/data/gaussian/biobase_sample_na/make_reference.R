# Reverse regression on features with missing values: MASS::rlm on the complete cases.
# Run from this folder: Rscript make_reference.R
# Input: the first 60 features of ../biobase_sample (real data, log2 exprs) with missing values
# put in by the rules below (seeded); written to values.tsv.gz, then read back from disk and
# fitted feature by feature: rlm(score ~ sex + type + feature) on the samples where the feature
# is observed (na.action = na.omit), MASS defaults. A fit R refuses (too few samples, a feature
# constant on its observed samples, covariates singular there) is NA with R's message.
suppressPackageStartupMessages(library(MASS))
values <- read.delim(gzfile("../biobase_sample/values.tsv.gz"), check.names = FALSE, row.names = 1)
values <- as.matrix(values[1:60, ])
samples <- read.delim(gzfile("../biobase_sample/samples.tsv.gz"), stringsAsFactors = FALSE)
stopifnot(identical(colnames(values), samples$sample))
set.seed(20261126)
# features 1-20 and 46-60 complete; 21-30 one shared pattern (samples C, Q missing);
# 31-40 each its own 1 to 6 missing samples; 41: 4 observed (too few for 4 coefficients);
# 42: 8 observed; 43: constant on its observed samples; 44: observed only in males
# (the covariate sex is constant there); 45: all missing
values[21:30, c("C", "Q")] <- NA
for (i in 31:40) values[i, sample(ncol(values), sample(1:6, 1))] <- NA
values[41, -(1:4)] <- NA
values[42, -c(1, 3, 6, 9, 12, 15, 20, 25)] <- NA
values[43, ] <- 7.25
values[43, c("B", "K", "T")] <- NA
values[44, samples$sex == "Female"] <- NA
values[45, ] <- NA
digits15 <- function(x) ifelse(is.na(x), NA, trimws(formatC(x, digits = 15, format = "g")))
out <- data.frame(feature_id = rownames(values), apply(values, 2, digits15), check.names = FALSE)
con <- gzfile("values.tsv.gz", "w")
write.table(out, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
close(con)
file.copy("../biobase_sample/samples.tsv.gz", "samples.tsv.gz", overwrite = TRUE)

values <- as.matrix(read.delim(gzfile("values.tsv.gz"), check.names = FALSE, row.names = 1))
sex <- factor(samples$sex, levels = c("Female", "Male"))
type <- factor(samples$type, levels = c("Control", "Case"))
score <- samples$score
rows <- lapply(seq_len(nrow(values)), function(i) {
  feature <- values[i, ]
  fit <- tryCatch(rlm(score ~ sex + type + feature, na.action = na.omit), error = function(e) e)
  n_obs <- sum(!is.na(feature))
  if (inherits(fit, "error") || !("feature" %in% rownames(summary(fit)$coefficients)) || any(is.na(coef(fit)))) {
    msg <- if (inherits(fit, "error")) conditionMessage(fit) else "coefficient not estimable"
    return(data.frame(feature_id = rownames(values)[i], n_obs = n_obs, estimate = NA, std_error = NA,
                      t_value = NA, scale = NA, converged = NA, iterations = NA, message = gsub("[\t\n]", " ", msg)))
  }
  co <- summary(fit)$coefficients["feature", ]
  data.frame(feature_id = rownames(values)[i], n_obs = n_obs, estimate = co[[1]], std_error = co[[2]],
             t_value = co[[3]], scale = fit$s, converged = fit$converged, iterations = length(fit$conv),
             message = "")
})
ref <- do.call(rbind, rows)
con <- gzfile("reference/score_reverse/rlm.tsv.gz", "w")
num <- c("estimate", "std_error", "t_value", "scale")
ref[num] <- lapply(ref[num], digits15)
write.table(ref, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
close(con)
print(ref[, c("feature_id", "n_obs", "estimate", "std_error", "converged", "iterations", "message")])
cat(R.version.string, "MASS", as.character(packageVersion("MASS")), "\n")

# The Freedman-Lane reduced model: rlm(score ~ sex + type) with MASS defaults, on all samples and
# on the samples of features 21-30 (C and Q missing): fitted values, scale, iterations.
reduced <- function(keep) {
  fit <- rlm(score ~ sex + type, subset = keep)
  fitted <- rep(NA_real_, length(score))
  fitted[keep] <- fitted(fit)
  list(fitted = fitted, s = fit$s, iterations = length(fit$conv), converged = fit$converged)
}
all_samples <- reduced(rep(TRUE, length(score)))
pattern <- reduced(!(samples$sample %in% c("C", "Q")))
out <- data.frame(sample = samples$sample, fitted_all = digits15(all_samples$fitted),
                  fitted_without_C_Q = digits15(pattern$fitted))
con <- gzfile("reference/score_reverse/rlm_covariates.tsv.gz", "w")
write.table(out, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
close(con)
print(out)
print(c(all_s = all_samples$s, all_iter = all_samples$iterations, pattern_s = pattern$s, pattern_iter = pattern$iterations))
