#!/usr/bin/env bash
# Makes the format-1 model files of this directory and the digests of their scores, with a
# healthscore that writes format 1 (the one committed here came from commit bf97067, the last
# release before the fit specification):
#   Tests/Artifacts/format1/make.sh PATH/TO/healthscore
# The test `formatOneModelsScoreBitIdentically` scores each model with the current build and
# compares the SHA-256 of the output with expected.txt: a later format must keep reading these
# files and scoring them to the last bit.
set -euo pipefail
bin=${1:?usage: make.sh PATH/TO/healthscore}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. mlc_churn: maximum likelihood, probability scale, quantile bands, a log1p transform, a
#    reference level and a sign bound.
"$bin" fit datasets/mlc_churn.csv --target churn --transform total_day_minutes=log1p \
    --reference area_code=area_code_415 --bound 'number_customer_service_calls>=0' --quiet --out "$here/mlc_plain.json"

# 2. The simulated history: a metric configuration (directions, transforms, display names), ridge
#    with λ by cross-validation, imputation, a points scale with rounded points.
cat > "$work/config.yaml" <<'YAML'
target: churned_next_month
id: customer_id
time: snapshot_date
missing: impute
metrics:
  logins: {display: Logins per month, healthier_when: higher, transform: log1p}
  active_days: {display: Active days, healthier_when: higher}
  support_tickets: {display: Support tickets, healthier_when: lower}
  high_severity_tickets: {healthier_when: lower}
  days_late: {display: Days late on invoice, healthier_when: lower, transform: log1p}
  nps: {display: NPS answer, healthier_when: higher}
  plan: {actionable: false}
YAML
"$bin" fit datasets/simulated_history.csv --config "$work/config.yaml" --penalty l2 --lambda auto --folds 5 \
    --scale points --round-points --quiet --out "$here/history_ridge_points.json"

# 3. The simulated history, Firth, with every metric, cluster-robust standard errors and fixed
#    band cuts.
"$bin" fit datasets/simulated_history.csv --target churned_next_month --id customer_id --time snapshot_date \
    --missing impute --penalty firth --covariance cluster:customer_id \
    --band-cuts 60,80 --quiet --out "$here/history_firth.json"

{
    for pair in "mlc_plain mlc_churn" "history_ridge_points simulated_history" "history_firth simulated_history"; do
        set -- $pair
        digest=$("$bin" score "$here/$1.json" "datasets/$2.csv" --reasons 3 | sha256sum | cut -d' ' -f1)
        echo "$1.json datasets/$2.csv $digest"
    done
} > "$here/expected.txt"
cat "$here/expected.txt"
