//go:build !race

package evalkit

const raceEnabled = false
