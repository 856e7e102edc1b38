//go:build race

package isolate

// raceEnabled: the race detector reserves its own shadow memory at start,
// which a worker capped at a few hundred MiB cannot hold; the memory-limit
// tests then run only without -race (.ci/run runs them so).
const raceEnabled = true
