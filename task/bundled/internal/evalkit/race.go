//go:build race

package evalkit

// raceEnabled reports whether the race detector is on: EachAlgorithm is
// too slow under it.
const raceEnabled = true
