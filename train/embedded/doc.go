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
// Which calls are trained on, the reward each is credited with (the
// "agreement" rule) and each algorithm's advantages, weights or pairs come
// from package reward, the one owner of those rules (the loop's reward
// statistics and the remote trainers read the same); the losses come from
// package rl. An update that would train no unit is refused with
// train.ErrNothingToTrain before anything is written. The
// base checkpoint is frozen: only the adapter (LoRA matrices and a small
// value head) is written. Training is deterministic for Request.Seed.
package embedded
