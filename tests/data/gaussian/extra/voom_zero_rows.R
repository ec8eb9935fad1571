# limma 3.54.1 / edgeR 3.40.2 (R 4.2.2): all-zero genes change neither the TMM factors nor the
# voom weights of the other genes (glmstack's tests/unit/test_gaussian_voom.py and
# tests/e2e/test_voom_workflow.py rely on it). Run: Rscript voom_zero_rows.R. Output when made:
#   tmm   1.015051 1.03923 1.058125 0.9512959 1.031164 0.9133127 
#   tmm0  1.015051 1.03923 1.058125 0.9512959 1.031164 0.9133127 
#   w diff 0 
#   w diff (lib given) 0 
#   zero-row weights 0.9265962 0.9265962 0.9265962 0.9265962 0.9265962 0.9265962 
suppressPackageStartupMessages({library(limma); library(edgeR)})
set.seed(1)
y <- matrix(rnbinom(2000*6, mu=rep(exp(rnorm(2000, 3, 2)), 6), size=5), 2000, 6)
y0 <- rbind(y, matrix(0L, 300, 6))
cat("tmm  ", calcNormFactors(y), "\n")
cat("tmm0 ", calcNormFactors(y0), "\n")
d <- model.matrix(~ factor(c(1,1,1,2,2,2)))
v <- voom(y, d); v0 <- voom(y0, d)
cat("w diff", max(abs(v$weights - v0$weights[1:2000,])), "\n")
v0b <- voom(y0, d, lib.size=colSums(y0))
cat("w diff (lib given)", max(abs(v$weights - v0b$weights[1:2000,])), "\n")
cat("zero-row weights", head(v0$weights[2001,]), "\n")
