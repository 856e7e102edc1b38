// Package reward owns the reward rules a weight update learns from, once
// for every consumer: which sampled model calls a trainer can learn from,
// the reward each one is credited with (the "agreement" rule), the
// per-algorithm advantages, cloning weights and preference pairs built
// from those rewards, and how many training units each algorithm would
// get. The loop's reward statistics (Batch.Stats), the embedded trainer
// and the remote trainers' data (train/internal/trainset) all read the
// same Batch, so the statistics the rule table sees describe exactly what
// every trainer learns from.
//
// The estimators themselves (group normalisation, entropic weights,
// leave-one-out baselines, …) are pure math in package rl; this package
// decides which one applies to which rewards.
package reward
