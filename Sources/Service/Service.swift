// The HTTP scoring service.
