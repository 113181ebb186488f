# Helpers shared by the R scripts that tests/test_vs_r.py runs.
# Each script writes one long CSV: indicator, place, cohort, group, estimate, se.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")

# Rows of a svyby() result as a data frame with the columns the Python test reads.
# `by` names the grouping variables in the order (place, cohort, group); a name of
# NA means the level is constant (`constants` gives its value).
tidy <- function(res, indicator, place, cohort, group) {
  level <- function(spec) {
    if (spec %in% names(res)) as.character(res[[spec]]) else rep(spec, nrow(res))
  }
  data.frame(
    indicator = indicator,
    place = level(place),
    cohort = level(cohort),
    group = level(group),
    estimate = unname(coef(res)),
    se = unname(SE(res)),
    stringsAsFactors = FALSE
  )
}

# survey's qrule_math (survey 4.1.1) with one edge case corrected. qrule_math picks
# pos = the last sorted value whose cumulative weight is <= p * total; when *no* value
# qualifies (the smallest value alone holds more than p of the weight) survey:::last()
# returns 1, and since cumw[1] != p * total the rule returns x[2], the second-smallest
# value: qrule_math(c(1, 2, 3), c(10, 1, 1), 0.5) is 2, not 1. The inverse-CDF rule the
# "math" rule documents, min{x : F(x) >= p}, gives x[1] there. Everything else (qs(),
# replicate handling in repCI(), svrVar(), svyby()) is survey's own code.
qrule_math_checked <- function(x, w, p) {
  if (any(zero <- w == 0)) {
    w <- w[!zero]
    x <- x[!zero]
  }
  q <- survey:::qs(x, w, p)
  if (q$ilow == 1 && q$wlow < 0) return(q$qlow)  # no cumulative weight <= p * total
  if (q$wlow == 0) q$qlow else q$qup
}

# Median (p = 0.5) by groups with replicate SEs: the quantile is computed with the full-sample
# weight and with each replicate weight (interval.type = "quantile"), under qrule = "math"
# (inverse of the weighted empirical CDF, no interpolation) or the corrected rule above.
# svyquantile reports SE = CI half-width / t-quantile with df = degf(design); a one-record
# domain has df = 0, qt() is NaN and so is the SE, although every replicate median equals
# the one value (SDR variance 0). df = Inf uses the normal quantile and returns the SE
# sqrt(svrVar(replicates)) itself.
by_median <- function(formula, by, design, qrule = "math") {
  svyby(formula, by, design, svyquantile, quantiles = 0.5, qrule = qrule,
        interval.type = "quantile", ci = TRUE, keep.var = TRUE, df = Inf)
}

write_result <- function(pieces, path) {
  out <- do.call(rbind, pieces)
  write.csv(out, path, row.names = FALSE)
}
