# Synthetic records with SDR replicate weights and places that split a PUMA: R survey estimates.
# Usage: Rscript synthetic_sdr.R RECORDS.csv PLACES.csv OUT.csv
# Places are applied by stacking: one row per (record, place) with every weight (full and
# replicate) multiplied by the PUMA's allocation factor; each place is then a domain.
# Medians use qrule_math_checked (common.R): survey's "math" rule with its first-value edge case
# corrected; groups of two or three records hit that case here.
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))))
source(file.path(here, "common.R"))

d <- read.csv(args[1], colClasses = c(puma = "character"), na.strings = c("", "NA"))
places <- read.csv(args[2], colClasses = c(puma = "character"))
s <- merge(d, places, by = "puma")
s$w <- s$person_weight * s$factor
for (r in 1:80) s[[paste0("r", r)]] <- s[[paste0("rep", r)]] * s$factor

# Cohorts, derived here from nativity and year of entry.
s$decade <- ifelse(s$nativity == "foreign_born" & !is.na(s$year_of_entry) & s$year_of_entry >= 1970,
                   ifelse(s$year_of_entry >= 2020, "2020-",
                          paste0(10 * (s$year_of_entry %/% 10), "-", 10 * (s$year_of_entry %/% 10) + 9)),
                   NA)
s$english_very_well <- as.numeric(s$english %in% c("only", "very_well"))
s$one <- 1

des <- svrepdesign(weights = ~w, repweights = "^r[0-9]+$", type = "JK1", scale = 4 / 80, rscales = 1,
                   mse = TRUE, data = s)

pieces <- list()
for (cohort in c("nativity", "decade")) {
  f <- as.formula(paste("~ place +", cohort, "+ sex"))
  in_cohort <- !is.na(s[[cohort]])
  base <- subset(des, in_cohort)
  english <- subset(base, age >= 5 & !is.na(english))
  adults <- subset(base, age >= 16 & !is.na(person_income))
  earners <- subset(adults, !is.na(earnings))
  add <- function(res, key) tidy(res, key, "place", cohort, "sex")
  pieces[[length(pieces) + 1]] <- add(svyby(~english_very_well, f, english, svymean), "english_very_well")
  pieces[[length(pieces) + 1]] <- add(svyby(~one, f, base, svytotal), "population")
  pieces[[length(pieces) + 1]] <- add(svyby(~person_income, f, adults, svymean), "mean_income")
  pieces[[length(pieces) + 1]] <- add(svyby(~person_income, f, adults, svytotal), "total_income")
  pieces[[length(pieces) + 1]] <- add(svyby(~earnings, f, earners, svyratio, denominator = ~person_income),
                                      "earnings_to_income")
  pieces[[length(pieces) + 1]] <- add(by_median(~person_income, f, adults, qrule_math_checked), "median_income")
}
write_result(pieces, args[3])
