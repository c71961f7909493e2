#!/usr/bin/env Rscript
# Reference run of R forecast::auto.arima (default settings) over the M4 hourly series, holding out the
# last 48 points of each series exactly as `stacklens eval m4` does.
#
# usage: Rscript m4_auto_arima_reference.R TRAIN.csv OUT.csv [STEP]
#        Rscript m4_auto_arima_reference.R TRAIN.csv OUTDIR/ [STEP]
#   STEP: fit every STEP-th series (H1, H1+STEP, ...); 1 = all 414; a negative STEP goes from the last
#   series backwards (a second process on an OUTDIR/ then meets the first in the middle). auto.arima needs about a CPU
#   minute per hourly series (several CPU-hours for all 414), so the run can be spread over days:
#   with an OUTDIR/ (trailing slash) each series goes to OUTDIR/<id>.csv, written atomically, and
#   series already there are skipped, so an interrupted run resumes where it stopped. Concatenate
#   the files (one header) to score them.
# OUT.csv: series_id,step,mean,lower,upper (95% interval), one comment line per series with the chosen
# order and the CPU and elapsed seconds of fit + forecast, and a final "# total ..." line.
# `stacklens eval m4 --score-forecasts OUT.csv` scores it with the same metric code as StackLens'.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: m4_auto_arima_reference.R TRAIN.csv OUT.csv [STEP]")
wide <- read.csv(args[1], header = TRUE, stringsAsFactors = FALSE)
step <- if (length(args) >= 3) as.integer(args[3]) else 1L
horizon <- 48
per_series <- endsWith(args[2], "/")
if (per_series) {
  dir.create(args[2], showWarnings = FALSE, recursive = TRUE)
} else {
  out <- file(args[2], open = "w")
  writeLines("series_id,step,mean,lower,upper", out)
}
total_cpu <- 0
total_elapsed <- 0
order <- if (step > 0) seq(1, nrow(wide), by = step) else seq(nrow(wide), 1, by = step)
for (i in order) {
  id <- wide[i, 1]
  if (per_series) {
    target <- file.path(args[2], paste0(id, ".csv"))
    if (file.exists(target)) next
    out <- file(paste0(target, ".part"), open = "w")
  }
  y <- as.numeric(wide[i, -1])
  y <- y[!is.na(y)]
  train <- ts(y[1:(length(y) - horizon)], frequency = 24)
  t0 <- proc.time()
  fit <- auto.arima(train)
  fc <- forecast(fit, h = horizon, level = 95)
  dt <- proc.time() - t0
  cpu <- dt[["user.self"]] + dt[["sys.self"]]
  total_cpu <- total_cpu + cpu
  total_elapsed <- total_elapsed + dt[["elapsed"]]
  writeLines(sprintf("%s,%d,%.10g,%.10g,%.10g", id, 1:horizon, as.numeric(fc$mean),
                     as.numeric(fc$lower[, 1]), as.numeric(fc$upper[, 1])), out)
  writeLines(sprintf("# %s %s cpu_seconds=%.3f elapsed_seconds=%.3f", id, paste(arimaorder(fit), collapse = ","),
                     cpu, dt[["elapsed"]]), out)
  flush(out)
  if (per_series) {
    close(out)
    file.rename(paste0(target, ".part"), target)
  }
}
if (!per_series) {
  writeLines(sprintf("# total cpu_seconds=%.3f elapsed_seconds=%.3f", total_cpu, total_elapsed), out)
  close(out)
}
