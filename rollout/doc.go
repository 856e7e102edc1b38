// Package rollout runs a harness over the items of a split, K samples each,
// with bounded concurrency and a hard per-item timeout, and hands on one
// Trajectory per sample in (item, sample) order whatever the scheduling:
// streamed to a sink as they finish (Stream), or collected (Run).
package rollout
