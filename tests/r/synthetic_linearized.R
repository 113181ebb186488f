# Synthetic records with strata and clusters (no replicate weights): Taylor-linearized R survey estimates.
# Usage: Rscript synthetic_linearized.R RECORDS.csv PLACES.csv OUT.csv
# Places are stacked as in synthetic_sdr.R (weights times allocation factor); the copies of a record
# keep its stratum and cluster, so each place is a domain of the same design.
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))))
source(file.path(here, "common.R"))  # sets options(survey.lonely.psu = "certainty")

d <- read.csv(args[1], colClasses = c(puma = "character"), na.strings = c("", "NA"))
places <- read.csv(args[2], colClasses = c(puma = "character"))
s <- merge(d, places, by = "puma")
s$w <- s$person_weight * s$factor
s$decade <- ifelse(s$nativity == "foreign_born" & !is.na(s$year_of_entry) & s$year_of_entry >= 1970,
                   ifelse(s$year_of_entry >= 2020, "2020-",
                          paste0(10 * (s$year_of_entry %/% 10), "-", 10 * (s$year_of_entry %/% 10) + 9)),
                   NA)
s$english_very_well <- as.numeric(s$english %in% c("only", "very_well"))
s$one <- 1

des <- svydesign(ids = ~cluster, strata = ~strata, weights = ~w, data = s)

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
}
write_result(pieces, args[3])
