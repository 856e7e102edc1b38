// Package rollout runs a harness over the items of a split, K samples each,
// with bounded concurrency and a hard per-item timeout, and returns one
// Trajectory per sample in (item, sample) order whatever the scheduling.
package rollout
