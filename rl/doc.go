// Package rl is pure math over slices: reward-shape statistics, advantage
// estimators (GAE, group-normalised, entropic, REINFORCE baseline), losses
// and their gradients (PPO-clip, KL, DPO, cross-entropy), and the rule table
// that picks an algorithm from the reward shape. Which estimator applies to
// which rewards, and how many training units each algorithm would get, is
// decided once in package reward. No I/O, no goroutines.
package rl
