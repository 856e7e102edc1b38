// Package rl is pure math over slices: reward-shape statistics, advantage
// estimators (GAE, group-normalised, entropic, REINFORCE baseline), losses
// and their gradients (PPO-clip, KL, DPO, cross-entropy), and the rule table
// that picks an algorithm from the reward shape. No I/O, no goroutines.
package rl
