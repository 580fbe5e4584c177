package transport

// What the package's external tests need of its unexported defaults and helpers.
var ExponentialBackoff = exponentialBackoff

const DefaultReplayLimit = defaultReplayLimit
