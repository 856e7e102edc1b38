// Package backend assembles what a run's loop works with — the harness
// runtime, the Meta- and Feedback-Agents, the task model (policy), the
// trainer, the budget and the model gateway — from one typed Options value,
// once. Every rule that ties them together is written here and only here:
// which --trainer values fit which target (Trainer), which backend serves
// trained adapters (vLLM, Tinker's sampler, or the target itself), and that
// --mode weights needs a trainer. The result, a Set, is not changed after
// Build returns.
//
// Errors name the sia run flag or setting they come from, and come before
// any work: an unknown profile, a missing API key, a --trainer the target
// cannot use. The package prints nothing; lines for the user go to
// Options.Notify.
package backend
