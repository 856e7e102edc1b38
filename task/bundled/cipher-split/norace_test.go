//go:build !race

package ciphersplit

const raceEnabled = false
