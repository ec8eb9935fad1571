"""Numerical constants of the method, each with its source in DESeq2 1.38."""

MIN_DISP = 1e-8  # DESeq2 minDisp (estimateDispersionsGeneEst/Fit/MAP)
MIN_MU = 0.5  # DESeq2 minmu: fitted means are bounded below in weights and dispersion fits
KAPPA_0 = 1.0  # DESeq2 kappa_0: initial step of the log-dispersion line search
DISP_TOL = 1e-6  # DESeq2 dispTol: line search stops when the log posterior gains less
DISP_MAXIT = 100  # DESeq2 maxit for the dispersion line search
ARMIJO_EPSILON = 1e-4  # DESeq2.cpp fitDisp: sufficient-increase constant of the Armijo rule
LOG_ALPHA_LOWER = -30.0  # DESeq2.cpp fitDisp: lgamma is unstable below this log dispersion
LOG_ALPHA_UPPER = 10.0  # DESeq2.cpp fitDisp: upper bound of a proposed log dispersion
GRID_POINTS = 20  # DESeq2 fitDispGridWrapper: points of the coarse and fine grids
NO_INCREASE_RTOL = 1e-6  # DESeq2: gene-wise moves gaining less than this share are undone

BETA_TOL = 1e-8  # DESeq2 betaTol: relative deviance change that ends IRLS
BETA_MAXIT = 100  # DESeq2 maxit for IRLS
LARGE_BETA = 30.0  # DESeq2.cpp fitBeta "large": |beta| above this aborts IRLS (natural log)
RIDGE_LOG2 = 1e-6  # DESeq2 lambda: ridge on log2-scale coefficients (wide prior, sd 1e3)

TREND_MIN_RATIO = 1e-4  # DESeq2 parametricDispersionFit: residual ratios kept for the Gamma fit
TREND_MAX_RATIO = 15.0
TREND_MAXIT = 10  # DESeq2 parametricDispersionFit: more refits than this is a failure
TREND_COEF_TOL = 1e-6  # DESeq2 parametricDispersionFit: sum of squared log coefficient ratios
MEAN_TREND_TRIM = 0.001  # DESeq2 fitType="mean": trimmed mean of gene-wise estimates

OUTLIER_SD = 2.0  # DESeq2 outlierSD: gene-wise estimates this many SDs above the trend are kept
PRIOR_VAR_MIN = 0.25  # DESeq2 estimateDispersionsPriorVar: floor of the prior variance

COOKS_QUANTILE = 0.99  # DESeq2: Cook's cutoff is qf(0.99, p, m - p)
COOKS_MIN_DISP = 0.04  # DESeq2 robustMethodOfMomentsDisp: floor of the robust dispersion
COOKS_MIN_CELL = 3  # DESeq2 recordMaxCooks: samples in cells with >= 3 replicates count
MIN_REPLICATES_FOR_REPLACE = 7  # DESeq2 minReplicatesForReplace
REPLACE_TRIM = 0.2  # DESeq2 replaceOutliers: trimmed mean used as replacement

FILTER_THETA_POINTS = 50  # DESeq2 pvalueAdjustment: quantiles tried
FILTER_UPPER_QUANTILE = 0.95
FILTER_LOWESS_FRAC = 0.2  # DESeq2 pvalueAdjustment: lowess(numRej ~ theta, f = 1/5)
FILTER_MIN_REJECTIONS = 10  # DESeq2: no filtering when the best threshold rejects <= 10
LOCAL_FIT_MIN_GENES = 3  # locfit's nearest-neighbour tree needs three points (R's locfit stops too)
NUMERIC_SCALE_MAX = 5.0  # DESeq2's message: numeric design variables with mean or sd above 5
NUMERIC_SD_MIN = 0.1  # below: a slope of a few log2 units over the range exceeds LARGE_BETA per unit

# Gaussian family (limma 3.54's documented defaults; Smyth 2004; Phipson et al. 2016)
LIMMA_QR_TOL = 1e-7  # R lm.fit / qr(): LINPACK dqrdc2 tolerance deciding inestimable columns
LIMMA_ZERO_VAR_SHARE = 1e-5  # limma fitFDist: variances below this share of the median are offset to it
LIMMA_TRIGAMMA_INV_TOL = 1e-8  # limma trigammaInverse: relative Newton step that ends the iteration
LIMMA_PROPORTION = 0.01  # limma eBayes proportion: assumed share of features with non-zero effects
LIMMA_STDEV_COEF_LIM = (0.1, 4.0)  # limma eBayes stdev.coef.lim: sd limits of true log-fold-changes
LIMMA_F_EIGEN_TOL = 1e-8  # eigenvalues of the contrasts' correlation counted in the F's rank (relative)
VOOM_LOWESS_SPAN = 0.5  # limma voom span: lowess of sqrt(sd) on mean log count
LIMMA_WINSOR_TAIL_P = (0.05, 0.1)  # limma squeezeVar/fitFDistRobustly winsor.tail.p: left, right Winsorised shares
LIMMA_ROBUST_LOWESS_SPAN = 0.4  # fitFDistRobustly with a covariate: lowess(covariate, log s2, f = 0.4) (probed, limma 3.54)
LIMMA_ROBUST_MIN_FEATURES = 10  # squeezeVar(robust = TRUE) with fewer features gives the non-robust prior (probed)
LIMMA_ROBUST_LOWESS_ITER = 3  # ... with R lowess's default iter = 3 robustifying steps (probed, limma 3.54)
VOOM_PRIOR_COUNT = 0.5  # voom (Law et al. 2014): log2((count + 0.5) / (lib.size + 1) * 1e6)
TMM_LOGRATIO_TRIM = 0.3  # edgeR calcNormFactors logratioTrim (Robinson & Oshlack 2010)
TMM_SUM_TRIM = 0.05  # edgeR calcNormFactors sumTrim
TMM_A_CUTOFF = -1e10  # edgeR calcNormFactors Acutoff

# Reverse regression (trait ~ covariates + feature): MASS 7.3 rlm defaults (Venables & Ripley 2002,
# MASS 4th ed. section 8.3; Huber 1981) and the permutation plan
HUBER_K = 1.345  # MASS psi.huber k: 95 % efficiency at the normal
RLM_ACC = 1e-4  # MASS rlm acc: relative change of the residuals that ends the iterations
RLM_MAXIT = 20  # MASS rlm maxit
MAD_CONSTANT = 0.6745  # MASS rlm scale.est "MAD": median(|r|) / 0.6745 (not centred)
REVERSE_TAIL_SHARE = 0.1  # the feature's top 10 % null |t| inform its generalised Pareto tail
# (used only beyond the largest null |t|; Knijnenburg et al. 2009 use up to 250 exceedances)
# Surrogate variable analysis (Leek & Storey 2007, 2008; Buja & Eyuboglu 1992; Leek 2011, 2014)
SVA_BE_SIGNIFICANCE = 0.10  # sva num.sv sv.sig: permutation p-value below which a component counts
SVA_LFDR_LAMBDA = 0.8  # sva edge.lfdr lambda: pi0 = mean(p >= lambda) / (1 - lambda)
SVA_LFDR_EPS = 1e-8  # sva edge.lfdr eps: p-values clipped to [eps, 1 - eps] before qnorm
SVA_LFDR_ADJUST = 1.5  # sva edge.lfdr adj: bandwidth multiplier of the density of qnorm(p)
SVA_KDE_GRID = 512  # R density() n: grid points of the binned kernel density
SVA_KDE_CUT = 3.0  # R density() cut: grid reaches cut bandwidths beyond the data
SVA_LEEK_THRESHOLDS = 100  # sva num.sv "leek": grid a = seq(0, 2, length = 100) of thresholds
SVA_LEEK_SUBSETS = 10  # sva num.sv "leek": nested subsets of j/10 of the features
SVASEQ_PSEUDOCOUNT = 1.0  # sva svaseq constant: log(normalised count + 1)
SVASEQ_MIN_MEAN = 1.0  # DESeq2 vignette (sva section): features with mean normalised count > 1
# Shrunken fold changes, lfc_shrink: normal (DESeq2 1.38 lfcShrink type "normal", Love et al. 2014)
BETA_PRIOR_UPPER_QUANTILE = 0.05  # estimateBetaPriorVar upperQuantile: match the top 5 % of |MLE LFC|
BETA_PRIOR_WIDE_VAR = 1e6  # estimateBetaPriorVar: the intercept's prior (and any column without MLEs)
BETA_PRIOR_MAX_ABS_LFC = 10.0  # estimateBetaPriorVar useFinite: |MLE LFC| below this enters the quantile
# lfc_shrink: apeglm (Zhu, Ibrahim & Love 2019; apeglm 1.20's priorVar and prior.control defaults)
APEGLM_NO_SHRINK_SD = 15.0  # apeglm prior.no.shrink.scale: normal prior of the coefficients not shrunk
APEGLM_MIN_PRIOR_VAR = 1e-6  # apeglm priorVar min.var (0.001^2)
APEGLM_MAX_PRIOR_VAR = 400.0  # apeglm priorVar max.var (20^2)
APEGLM_MAX_ITER = 200  # Newton iterations of the MAP (apeglm's L-BFGS allows 300)
APEGLM_TOL = 1e-10  # Newton stops when no coefficient moves more than this (natural log)
