# R's glm(y ~ x, family = Gamma("identity"), start = ...) for glmstack.rmath.gamma_glm
# (tests/unit/test_gamma_glm.py): DESeq2's parametric dispersion trend is this fit.
#   Rscript make_gamma_glm.R     (R 4.2.2)
# gamma_glm.tsv.gz, one row per observation of each case: case, x, y (the inputs), and the
# case's start, maxit, R's coefficients, converged and iter.
# Numbers are written with sprintf("%.17g"), so they read back as the same doubles.
set.seed(3)
x <- 1 / exp(runif(200, 0, 8))
y <- (0.05 + 2 * x) * rchisq(200, 4) / 4
cases <- list(
  trend = list(x = x, y = y, start = c(0.1, 1), maxit = 25),
  # the same data stopped after two iterations: not converged
  trend_maxit2 = list(x = x, y = y, start = c(0.1, 1), maxit = 2),
  # a near-Poisson trend with chi-square(1) scatter, far from the start
  scattered = list(x = x, y = pmax(0.002 * x + 1e-4, 1e-6) * rchisq(200, 1), start = c(0.1, 1), maxit = 25),
  # steps give negative means (a non-finite deviance): R halves them towards the last
  # coefficients ("step size truncated due to divergence")
  halved = list(x = c(1, 2, 3, 4, 5), y = c(0.001, 0.001, 0.001, 0.001, 10), start = c(1, 0), maxit = 25)
)
rows <- list()
for (name in names(cases)) {
  k <- cases[[name]]
  fit <- suppressWarnings(glm(k$y ~ k$x, family = Gamma("identity"), start = k$start,
                              control = glm.control(maxit = k$maxit)))
  f <- function(v) sprintf("%.17g", v)
  rows[[name]] <- data.frame(
    case = name, x = f(k$x), y = f(k$y),
    start0 = f(k$start[1]), start1 = f(k$start[2]), maxit = k$maxit,
    coef0 = f(coef(fit)[[1]]), coef1 = f(coef(fit)[[2]]),
    converged = fit$converged, iter = fit$iter
  )
}
con <- gzfile("gamma_glm.tsv.gz", "w")
write.table(do.call(rbind, rows), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)
