# One indicator's domain estimates with R survey, for benchmarks/run.py (issue 8).
# Usage: Rscript benchmarks/svyby.R <input.csv> <output.csv>
# input: kommun, year, stratum, sex, weight, population, stratum_id, y (0/1/NA)
# Per-year designs (one design over the whole region fails in R); strata nested in kommuner
# (stratum_id = kommun/area); domains kommun × sex:
#   svydesign(ids=~1, strata=~stratum_id, weights=~weight, fpc=~population, data=d)
#   svyby(~y, ~kommun+sex, design, svymean, na.rm=TRUE)
# The last stdout line is JSON: seconds (design + svyby, reading excluded), read_seconds.
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
t_read <- system.time({
  d <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = c("NA", ""),
                fileEncoding = "UTF-8")
})[["elapsed"]]
# Rows with a missing sex stay in the design (domain estimation) and in no domain.
t <- system.time({
  parts <- lapply(sort(unique(d$year)), function(yr) {
    dy <- d[d$year == yr, ]
    des <- svydesign(ids = ~1, strata = ~stratum_id, weights = ~weight,
                     fpc = ~population, data = dy)
    r <- svyby(~y, ~kommun + sex, des, svymean, na.rm = TRUE)
    data.frame(year = yr, kommun = r$kommun, sex = r$sex, estimate = r$y, se = SE(r))
  })
  out <- do.call(rbind, parts)
})[["elapsed"]]
write.csv(out, args[2], row.names = FALSE, fileEncoding = "UTF-8")
cat(sprintf('{"seconds": %.4f, "read_seconds": %.4f, "domains": %d}\n', t, t_read, nrow(out)))
