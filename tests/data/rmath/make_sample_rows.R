# R's row-by-row permutations for glmstack.rmath.permute (tests/unit/test_sva.py).
#   Rscript make_sample_rows.R     (R 4.2.2, default RNG kinds: Mersenne-Twister, Rejection)
# sample_rows.tsv.gz: `case` (the R call), then the 1-based permutation, one row per line.
rows <- function(seed, m, n) { set.seed(seed); t(apply(matrix(0, m, n), 1, function(r) sample.int(n))) }
cases <- list("set.seed(7); 200 rows of sample.int(100)" = rows(7, 200, 100),
              "set.seed(20251126); 50 rows of sample.int(38)" = rows(20251126, 50, 38),
              "set.seed(1); 30 rows of sample.int(3)" = rows(1, 30, 3))
con <- gzfile("sample_rows.tsv.gz", "w")
for (name in names(cases)) {
  x <- cases[[name]]
  writeLines(paste(name, apply(x, 1, paste, collapse = " "), sep = "\t"), con)
}
close(con)
