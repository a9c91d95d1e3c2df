// Hand-weighted scorecards (the formula a team runs today), read from YAML and scored.
