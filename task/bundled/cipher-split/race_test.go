//go:build race

package ciphersplit

// raceEnabled reports whether the race detector is on: the model
// measurements are too slow under it.
const raceEnabled = true
