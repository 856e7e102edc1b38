// Package trajectory holds the logged record of one rollout sample: every
// model call (with token ids and sampling logprobs as sampled), tool call and
// log line, the answer and its reward. One Trajectory is one JSON line of
// gen_<n>/rollouts.jsonl.
package trajectory
