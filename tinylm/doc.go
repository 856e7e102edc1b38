// Package tinylm is sia's embedded task model: a small decoder-only
// transformer written directly in Go, with hand-written forward and backward
// passes, LoRA adapters, sampling with a KV cache, safetensors checkpoints and
// PEFT-layout adapter export.
//
// # Architecture
//
// Pre-LN GPT: token and learned positional embeddings; Layers blocks of
// LayerNorm → causal multi-head self-attention (q, k, v, o projections with
// biases) → residual → LayerNorm → MLP (up, exact GELU, down, with biases) →
// residual; a final LayerNorm and an untied output head with a bias. Every
// matrix product goes through kernel.go, which wraps vek32 (AVX2/FMA Go
// assembly, no cgo). Linear weights are kept in two layouts, [out,in] (the
// checkpoint layout, used by the backward pass) and [in,out] (used by the
// forward pass), so both directions are plain row-major products.
//
// # Tokenizer
//
// Byte-level UTF-8 (ids 0..255) plus special tokens (BOS, EOS, chat-role
// markers, end-of-turn, pad): any string, Chinese included, round-trips.
//
// # Training interface
//
// Forward runs a batch of token sequences (no padding: each sequence keeps its
// own length, at most Config.Context) and returns a Tape with, for every
// position t < len-1, the logprob of token t+1, the entropy of the
// next-token distribution and, when the adapter has a value head, the value
// of the state at t. Backward takes dLoss/dLogprob (and dLoss/dValue,
// dLoss/dEntropy) per position and accumulates gradients into the adapter;
// Adapter.Step applies AdamW with global-norm clipping. Forward with a nil
// adapter is the base model (the reference policy for KL and DPO).
//
//	opt := tinylm.NewAdamW(1e-4, 0.9, 0.999, 1e-8, 0.01)
//	tape, err := m.Forward(ad, seqs)
//	// ... compute dLogp[b][t] from tape.Logprobs ...
//	err = m.Backward(tape, dLogp, nil) // or BackwardEntropy(…, dEntropy)
//	gradNorm := ad.Step(opt, 1.0)      // clip to global norm 1, AdamW
//	ad.ZeroGrad()
//
// Pretrain trains a base model from scratch on a token corpus (full
// parameters, AdamW, warm-up + cosine schedule, progress callback).
//
// # LoRA
//
// ΔW = (Alpha/Rank)·B·A on the chosen projections (q, k, v, o, up, down).
// Defaults: Rank 32 capped at DModel/2, Alpha = 2·Rank (scale 2, the common
// choice), targets q, k, v, o. A is initialised like PEFT (uniform in
// ±1/sqrt(in)), B is zero, so a fresh adapter reproduces the base exactly.
// The base weights are never written by adapter training.
//
// # Sampling
//
// Sample prefills the prompt once and decodes N samples that share the
// prompt's KV cache. Sampled.Logprobs[i] is the log-probability of
// Tokens[i] under the temperature-scaled distribution softmax(logits/T),
// before top-p truncation; at T = 1 it is exactly the model's logprob that
// Forward computes for the same sequence. With Temperature 0 decoding is
// greedy and Logprobs are the model's (T = 1) logprobs. A sampled stop token
// is included in Tokens.
//
// # Files
//
// Model checkpoints are safetensors files (github.com/nlpodyssey/safetensors)
// with the Config as JSON in the metadata key "tinylm.config" and stable,
// Hugging Face-style tensor names (model.layers.<i>.self_attn.q_proj.weight,
// [out,in]). Adapters are PEFT folders: adapter_config.json plus
// adapter_model.safetensors with keys
// base_model.model.model.layers.<i>.self_attn.q_proj.lora_A.weight ([r,in])
// and .lora_B.weight ([out,r]); the optional value head lives in
// value_head.safetensors in the same folder.
//
// # Parallelism and speed
//
// A batch of several sequences is cut into one contiguous group per CPU
// (parallel.go); each group runs its whole forward and backward pass on its
// own goroutine and writes private gradient copies that are summed in group
// order, so results do not depend on scheduling. Inside a group, vek32
// splits large products by rows and attention heads, GELU and norms are
// spread over the CPUs. Products are arranged to have many output columns
// (vek32's kernel runs 32 output columns at a time and the remainder in
// scalar code): attention computes Oᵀ = Vᵀ·Pᵀ rather than P·V, and the fused
// LoRA matrices are padded to a multiple of 32 columns. GELU is exact up to
// float32 rounding (Abramowitz & Stegun 7.1.26 for erf). Benchmarks against
// PyTorch: bench/run.sh and docs/benchmarks.md.
//
// # Concurrency
//
// A Model is immutable after New, Load or Pretrain and safe for concurrent
// Forward and Sample calls. An Adapter may be read by concurrent Forward and
// Sample calls, but Backward, Step and ZeroGrad write it and must not run
// concurrently with anything else on the same adapter. Nothing panics out of
// the package: exported functions recover internal panics into errors.
package tinylm
