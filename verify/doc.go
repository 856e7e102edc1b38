// Package verify scores answers against gold labels and writes results.json.
//
// The gold labels enter only here. A Result holds aggregate metrics and a
// gold-free item list (id, status, reward, output, detail), so everything a
// verifier writes may be read by agents.
package verify
