//go:build race

package starlark

// raceEnabled skips the slow real-data accuracy tests under -race: they
// test accuracy, not concurrency, and the detector makes them ~20x slower.
const raceEnabled = true
