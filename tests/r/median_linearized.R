# Woodruff (linearized) medians by group, as scorecard does for strata/cluster designs.
# Usage: Rscript median_linearized.R input.csv output.csv
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
design <- svydesign(ids = ~cluster, strata = ~strata, weights = ~w, data = d, nest = TRUE)
groups <- sort(unique(d$g))
out <- do.call(rbind, lapply(groups, function(group) {
  sub <- subset(design, g == group)
  q <- svyquantile(~x, sub, quantiles = 0.5, qrule = "math", df = Inf, ci = TRUE, se = TRUE)
  data.frame(g = group, estimate = q$x[1, "quantile"], se = q$x[1, "se"])
}))
write.csv(out, args[2], row.names = FALSE)
