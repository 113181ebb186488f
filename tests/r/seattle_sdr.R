# Seattle 2016 person PUMS subset: SDR estimates with R survey, from the raw PUMS file.
# Usage: Rscript seattle_sdr.R PUMS.csv.gz OUT.csv
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))))
source(file.path(here, "common.R"))

d <- read.csv(args[1])
d$place <- sprintf("%05d", d$PUMA)
d$sex <- c("male", "female")[d$SEX]
d$employed <- as.numeric(d$ESR %in% c(1, 2, 4, 5))
d$old <- as.numeric(d$AGEP >= 65)
d$working_age <- as.numeric(d$AGEP >= 18 & d$AGEP <= 64)
d$one <- 1

# ACS successive difference replication = JK1 with scale 4/80, rscales 1, centred on the full sample.
des <- svrepdesign(weights = ~PWGTP, repweights = "pwgtp[0-9]+", type = "JK1", scale = 4 / 80,
                   rscales = 1, mse = TRUE, data = d)
workers <- subset(des, AGEP >= 16 & !is.na(ESR))  # domain: rows stay in the design

pieces <- list()
for (by in list(c("place", "sex"), "sex")) {
  f <- as.formula(paste("~", paste(by, collapse = "+")))
  place <- if ("place" %in% by) "place" else "all"
  add <- function(res, key) tidy(res, key, place, "all", "sex")
  pieces[[length(pieces) + 1]] <- add(svyby(~employed, f, workers, svymean), "employed_16plus")
  pieces[[length(pieces) + 1]] <- add(svyby(~AGEP, f, des, svymean), "mean_age")
  pieces[[length(pieces) + 1]] <- add(by_median(~AGEP, f, des), "median_age")
  pieces[[length(pieces) + 1]] <- add(svyby(~one, f, des, svytotal), "persons")
  pieces[[length(pieces) + 1]] <- add(svyby(~employed, f, workers, svytotal), "employed_count")
  pieces[[length(pieces) + 1]] <- add(svyby(~old, f, des, svyratio, denominator = ~working_age), "old_age_ratio")
}
write_result(pieces, args[2])
