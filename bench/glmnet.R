# R glmnet peer of the healthscore speed judge (bench/compare.py runs it).
#
#   Rscript bench/glmnet.R CSV TARGET ID TIME FOLDS ALPHA NLAMBDA
#
# Reads the CSV, builds healthscore's design (complete cases; text columns as
# factors whose reference is the first level in byte order), then times only
# the cv.glmnet call.  Prints one JSON line; compare.py times the process.
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; target <- args[2]; id <- args[3]; time_col <- args[4]
folds <- as.integer(args[5]); alpha <- as.numeric(args[6]); nlambda <- as.integer(args[7])

suppressPackageStartupMessages(library(glmnet))
t0 <- proc.time()[["elapsed"]]
df <- read.csv(csv, stringsAsFactors = FALSE, na.strings = c("", "NA", "N/A", "NULL", "NaN"))
t1 <- proc.time()[["elapsed"]]
features <- setdiff(names(df), c(target, id, time_col))
df <- df[complete.cases(df[, c(features, target)]), c(features, target)]
for (col in features) {
  if (is.character(df[[col]])) {
    # method = "radix" sorts in the C locale: byte order, as healthscore.
    df[[col]] <- factor(df[[col]], levels = sort(unique(df[[col]]), method = "radix"))
  }
}
x <- model.matrix(reformulate(features), df)[, -1, drop = FALSE]
y <- df[[target]]
t2 <- proc.time()[["elapsed"]]
set.seed(1)
cv <- cv.glmnet(x, y, family = "binomial", alpha = alpha, nlambda = nlambda, nfolds = folds)
t3 <- proc.time()[["elapsed"]]

at <- function(s) {
  b <- as.matrix(coef(cv, s = s))
  sum(b[-1, 1] != 0)
}
cat(sprintf(paste0('{"read_seconds": %.6f, "design_seconds": %.6f, "seconds": [%.6f], ',
                   '"rows": %d, "terms": %d, "lambdas": %d, "lambda_min": %.10g, "lambda_1se": %.10g, ',
                   '"nonzero_min": %d, "nonzero_1se": %d, "glmnet": "%s", "r": "%s", ',
                   '"call": "cv.glmnet(x, y, family=\\"binomial\\", alpha=%g, nlambda=%d, nfolds=%d)"}\n'),
            t1 - t0, t2 - t1, t3 - t2, nrow(x), ncol(x) + 1L, length(cv$lambda),
            cv$lambda.min, cv$lambda.1se, at("lambda.min"), at("lambda.1se"),
            as.character(packageVersion("glmnet")), paste(R.version$major, R.version$minor, sep = "."),
            alpha, nlambda, folds))
