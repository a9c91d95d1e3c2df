// Accuracy measures for churn scores: ranking, calibration, lift. Pure Swift, exact.
