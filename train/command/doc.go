// Package command is a train.Trainer that hands a weight update to any
// external trainer: TRL, verl, OpenRLHF, a Ray job submission, a script on
// a GPU box. It writes the generation's training set and a job config,
// runs a user-supplied command template, and accepts the PEFT adapter the
// command writes only after validating it (package adapter).
//
// Files, in the work folder (default <gen>/trainer/):
//
//	data.jsonl   one JSON object per line; "type":"sample" lines carry the
//	             prompt and completion token ids, the sampling logprobs,
//	             ref_logprobs (when the sample came from the base), reward,
//	             advantage (computed by package rl for the algorithm) and
//	             weight (best-of-N); "type":"pair" lines carry DPO pairs
//	             (chosen/rejected token ids, logprobs, rewards, text)
//	config.json  JobConfig: algorithm, base model, parent adapter, LoRA
//	             rank/alpha/target modules, hyperparameters, paths
//	train.log    the command's stdout and stderr
//
// The command template is run by /bin/sh -c after substituting the
// placeholders {data} {config} {out} {workdir} {parent} {algorithm} {gen}
// {version} {run} {base_model} {seed}, each shell-quoted; the same values
// are in the environment as SIA_DATA, SIA_CONFIG, SIA_OUT, … The command
// must write a PEFT adapter (adapter_config.json + adapter_model.safetensors)
// into {out} or one folder below it, and may write {out}/metrics.json (a flat
// object of numbers) to report its final loss and the like.
//
// The command runs in its own process group with a timeout; on timeout or
// cancellation the whole group gets SIGTERM and, after a grace period,
// SIGKILL, so launchers that fork workers do not leak them. Output is
// streamed line by line to train.log and to Config.OnLog.
//
// Every algorithm is accepted: PPO's advantages come from the external
// trainer's critic (GAE), so sample lines carry advantage 0 and the reward;
// DPO gets pairs. docs/trainers/ has example commands for TRL and verl.
package command
