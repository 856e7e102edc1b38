// Package trajectory holds the logged record of one rollout sample: every
// model call (with token ids and sampling logprobs as sampled), tool call and
// log line, the answer and its reward. One Trajectory is one JSON line of
// gen_<n>/rollouts.jsonl (stored zstd-compressed as rollouts.jsonl.zst).
// The package owns reading and writing trajectory files: streamed in and
// out one trajectory at a time, so no caller holds a whole file.
package trajectory
