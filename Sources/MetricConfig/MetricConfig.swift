// The analyst's metric configuration (YAML): roles, directions, transforms, groups.
