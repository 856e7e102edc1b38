//go:build race

package loop

// raceEnabled skips the real-data agent test under -race: it measures, it
// does not test concurrency, and the detector makes it ~20x slower.
const raceEnabled = true
