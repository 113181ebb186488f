# R survey side of benchmarks/bench_estimate.py: one indicator (english_very_well) by PUMA x cohort.
# Usage: Rscript r_bench.R DIR N OUT.csv   (DIR holds the binary columns written by bench_estimate.py)
# Prints one JSON line {"seconds": ..., "survey": ...}; seconds cover design + svyby only (not reading).
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
n <- as.integer(args[2])
col <- function(name, what, size) readBin(file.path(dir, paste0(name, ".bin")), what, n = n, size = size)
d <- data.frame(
  age = col("age", "integer", 4),
  english = col("english", "integer", 4),
  foreign = col("foreign", "integer", 4),
  year_of_entry = col("year_of_entry", "double", 8),
  place = col("place", "integer", 4),
  w = col("weight", "double", 8)
)
reps <- matrix(readBin(file.path(dir, "replicates.bin"), "double", n = n * 80, size = 4), nrow = n, byrow = TRUE)

# Universe, measure and cohorts derived here from the raw codes (english: 0 only, 1 very well, -1 missing).
d$universe <- d$age >= 5 & d$english >= 0
d$very_well <- as.numeric(d$english %in% c(0, 1))
d$nativity <- ifelse(d$foreign == 1, "foreign_born", "native")
decade <- 10 * (d$year_of_entry %/% 10)
d$decade <- ifelse(d$foreign == 1 & !is.na(d$year_of_entry) & d$year_of_entry >= 1970,
                   ifelse(d$year_of_entry >= 2020, "2020-", paste0(decade, "-", decade + 9)), NA)
in_decade <- d$universe & !is.na(d$decade)

start <- proc.time()[["elapsed"]]
des <- svrepdesign(weights = ~w, repweights = reps, type = "JK1", scale = 4 / 80, rscales = 1, mse = TRUE,
                   data = d)
by_nativity <- svyby(~very_well, ~place + nativity, subset(des, universe), svymean)
by_decade <- svyby(~very_well, ~place + decade, subset(des, in_decade), svymean)
seconds <- proc.time()[["elapsed"]] - start

out <- rbind(
  data.frame(place = by_nativity$place, cohort = by_nativity$nativity, estimate = coef(by_nativity),
             se = SE(by_nativity)),
  data.frame(place = by_decade$place, cohort = by_decade$decade, estimate = coef(by_decade), se = SE(by_decade))
)
write.csv(out, args[3], row.names = FALSE)
cat(sprintf('{"seconds": %.4f, "survey": "%s"}\n', seconds, as.character(packageVersion("survey"))))
