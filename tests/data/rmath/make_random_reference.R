# Reference numbers for glmstack.rmath.random (tests/unit/test_rmath_random.py).
#
# R's default generator: Mersenne-Twister, normal.kind "Inversion", sample.kind "Rejection".
# Every number is printed with sprintf("%.17g"), so it reads back as the same double.
# Run from this folder:  Rscript make_random_reference.R
# Writes random_reference.tsv.gz (sequence, position, value; position = R's 1-based index
# in the vector named by `sequence`) and prior_sim_counts.tsv.gz (the histogram counts of
# DESeq2 1.38's estimateDispersionsPriorVar simulation for m - p = 1, 2, 3).

stopifnot(RNGkind()[1] == "Mersenne-Twister", RNGkind()[2] == "Inversion")

rows <- list()
add <- function(sequence, values, positions = seq_along(values)) {
  rows[[length(rows) + 1]] <<- data.frame(
    sequence = sequence, position = positions,
    value = sprintf("%.17g", values[positions]), stringsAsFactors = FALSE
  )
}

# the generator's state right after set.seed(2): .Random.seed[1] codes the kinds,
# [2] is the position in the 624-word state, [3:626] the state words as signed integers
set.seed(2)
add("Random.seed_after_set.seed(2)", .Random.seed)

# first uniforms for several seeds, including the extremes of R's integer seed
for (seed in c(2L, 1L, 0L, 42L, 123456789L, 2147483647L, -1L, -2L, -2147483647L)) {
  set.seed(seed)
  add(sprintf("set.seed(%d); runif(20)", seed), runif(20))
}

# deep into the stream (the 624-word state has been regenerated more than 1600 times)
set.seed(2); invisible(runif(1e6)); add("set.seed(2); runif(1e6); runif(10)", runif(10))

# qnorm (AS241) in its three regions and at the ends
p <- c(0, 1e-300, 1e-100, 1e-20, 1e-10, 2^-59, 1e-5, 0.001, 0.02, 0.0749, 0.075, 0.0751,
       0.3, 0.5, 0.7, 0.9249, 0.925, 0.9251, 0.99, 1 - 1e-10, 1 - 2^-53, 1)
add("qnorm_p", p)
add("qnorm(qnorm_p)", qnorm(p))

# sd = 0 returns the mean and draws nothing; sd > 0 uses two uniforms per normal
set.seed(2); z0 <- rnorm(5, 3, 0); add("set.seed(2); rnorm(5, 3, 0)", z0)
add("set.seed(2); rnorm(5, 3, 0); runif(3)", runif(3))
set.seed(2); add("set.seed(2); rnorm(1000)", rnorm(1000))
set.seed(7); add("set.seed(7); rnorm(50, 10, 3)", rnorm(50, 10, 3))

set.seed(2); add("set.seed(2); rexp(1000)", rexp(1000))

for (shape in c(0.5, 1, 1.5, 3.7, 5, 20)) {
  set.seed(2)
  add(sprintf("set.seed(2); rgamma(500, shape = %s)", format(shape)), rgamma(500, shape = shape))
}
set.seed(3); add("set.seed(3); rgamma(200, shape = 0.3, scale = 3)", rgamma(200, shape = 0.3, scale = 3))
set.seed(3); add("set.seed(3); rgamma(200, shape = 2.5, scale = 3)", rgamma(200, shape = 2.5, scale = 3))
set.seed(3); add("set.seed(3); rgamma(200, shape = 2.5, scale = 0.1)", rgamma(200, shape = 2.5, scale = 0.1))

for (df in 1:3) {
  set.seed(2)
  add(sprintf("set.seed(2); rchisq(500, df = %d)", df), rchisq(500, df = df))
}

# DESeq2 1.38 estimateDispersionsPriorVar, m - p = df: after set.seed(2), for each of the
# 200 grid values x, rchisq(10000, df) then rnorm(10000, 0, sqrt(x)) (one continuous stream);
# randDist = log(chisq) + norm - log(df), kept inside (-10, 10) and histogrammed.
brks <- -20:20 / 2
grid <- seq(from = 0, to = 8, length = 200)
counts <- list()
deep <- c(1:5, 10001:10005, 1000000:1000010, 1999996:2000000)
for (df in 1:3) {
  set.seed(2)
  chisq <- norm <- numeric(0)
  chisq_all <- norm_all <- vector("list", length(grid))
  for (k in seq_along(grid)) {
    chisq_all[[k]] <- rchisq(10000, df = df)
    norm_all[[k]] <- rnorm(10000, 0, sqrt(grid[k]))
    rand_dist <- log(chisq_all[[k]]) + norm_all[[k]] - log(df)
    rand_dist <- rand_dist[rand_dist > min(brks) & rand_dist < max(brks)]
    counts[[length(counts) + 1]] <- c(df, k, hist(rand_dist, breaks = brks, plot = FALSE)$counts)
  }
  chisq <- unlist(chisq_all)
  norm <- unlist(norm_all)
  add(sprintf("deseq2_prior_sim_df%d_chisq", df), chisq, deep)
  add(sprintf("deseq2_prior_sim_df%d_norm", df), norm, deep)
  add(sprintf("deseq2_prior_sim_df%d_randDist", df), log(chisq) + norm - log(df), deep)
}

out <- gzfile("random_reference.tsv.gz", "w")
write.table(do.call(rbind, rows), out, sep = "\t", quote = FALSE, row.names = FALSE)
close(out)

counts <- do.call(rbind, counts)
colnames(counts) <- c("df", "grid_index", sprintf("bin%02d", 1:40))
out <- gzfile("prior_sim_counts.tsv.gz", "w")
write.table(counts, out, sep = "\t", quote = FALSE, row.names = FALSE)
close(out)

cat(R.version.string, "\n")
