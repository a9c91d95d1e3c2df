# Firth (brglm2 AS_mean) references on modeldata's credit_data (datasets/credit_data.csv), in the
# design healthscore builds with `--missing impute`: a missing number is filled with the column's mean
# and gets a `missing(COL)` indicator, a missing category is its own last level `(missing)`; the
# first level in byte order is the reference. Run: Rscript Tests/Reference/scripts/credit_firth.R
suppressMessages(library(brglm2))
d <- read.csv("datasets/credit_data.csv", stringsAsFactors = FALSE, na.strings = "")
y <- as.numeric(d$Status == "bad")
cols <- list()
for (name in setdiff(names(d), "Status")) {
  x <- d[[name]]
  if (is.numeric(x)) {
    miss <- is.na(x)
    x[miss] <- mean(x[!miss])
    cols[[name]] <- x
    if (any(miss)) cols[[paste0("missing(", name, ")")]] <- as.numeric(miss)
  } else {
    miss <- is.na(x)
    levels <- sort(unique(x[!miss]), method = "radix")
    x[miss] <- "(missing)"
    if (any(miss)) levels <- c(levels, "(missing)")
    for (l in levels[-1]) cols[[paste0(name, "[", l, "]")]] <- as.numeric(x == l)
  }
}
X <- as.matrix(as.data.frame(cols, check.names = FALSE))
# brglm2's quasi-Fisher scoring diverges on the imputed design from its own start (the one-row
# Marital and two-row Job `(missing)` levels run off to 1e15); started at healthscore's estimate
# (credit_impute_firth_start.csv) it converges by its own rule, and that is the reference.
fit_and_write <- function(X, y, out, start = NULL) {
  f <- glm(y ~ X, family = binomial(), method = "brglmFit", type = "AS_mean", epsilon = 1e-12, maxit = 1000, start = start)
  stopifnot(f$converged)
  cat(out, ": converged in", f$iter, "iterations\n")
  write.csv(data.frame(term = c("(Intercept)", colnames(X)), estimate = sprintf("%.15g", unname(coef(f))),
                       std_error = sprintf("%.15g", unname(sqrt(diag(vcov(f)))))),
            out, row.names = FALSE, quote = FALSE)
}
start <- read.csv("Tests/Reference/credit_impute_firth_start.csv")
stopifnot(all(start$term == c("(Intercept)", colnames(X))))
fit_and_write(X, y, "Tests/Reference/credit_impute_firth.csv", start = start$estimate)
cc <- complete.cases(d)
Xc <- X[cc, !grepl("missing", colnames(X), fixed = TRUE)]
fit_and_write(Xc, y[cc], "Tests/Reference/credit_complete_firth.csv")
