// Package embedded is the in-process trainer: LoRA adapters on the tinylm
// base, trained with any of the six RL algorithms on a generation's logged
// rollouts.
//
// It reads only what the rollouts stored: each model-call step's prompt
// token ids, completion token ids and sampling logprobs (never re-tokenised
// text). A training sequence is prompt+completion; the loss mask covers the
// completion tokens only, so prompt tokens — system text, few-shot turns and
// any tool output fed back into a later prompt — are never trained on.
//
// Credit: a trajectory's reward belongs to its final answer. When a harness
// samples several completions and votes, each completion is one training
// example; by default ("agreement" credit) a completion that contains the
// final answer gets the trajectory's reward, and one that does not gets 0
// when the final answer was correct (it disagreed with a correct answer)
// and the trajectory's reward otherwise. "trajectory" credit gives every
// completion the trajectory's reward.
//
// Advantages and losses come from package rl; examples are grouped by item
// (GRPO's groups, DPO's best-vs-worst pairs, best-of-N's top samples). The
// base checkpoint is frozen: only the adapter (LoRA matrices and a small
// value head) is written. Training is deterministic for Request.Seed.
package embedded
