// Package openai is the llm.Model backend for OpenAI and every server that
// speaks the OpenAI Chat Completions API: vLLM, SGLang, Ollama, llama.cpp,
// OpenRouter, Together. It is built on the official openai-go v3 SDK.
//
// Besides text and tool calls, a completion carries the sampled token ids and
// their logprobs where the server returns them. With Config.VLLM set the
// request asks vLLM for them explicitly (return_token_ids, and with logprobs
// return_tokens_as_token_ids, whose "token_id:<id>" strings are parsed back
// into ids), so the weights lever trains on exactly what was sampled.
//
// Retries use the SDK's own policy (exponential backoff with jitter on
// connection errors, 408, 409, 429 and 5xx, honouring retry-after and
// retry-after-ms); Config.MaxRetries and Config.Timeout (per attempt) tune it.
// openai-go gives up on an attempt that hits the per-attempt timeout, so this
// package retries those itself on the same schedule.
// Provider errors come back as *APIError, one line with status, type and
// message; flat vLLM error bodies are normalised to the OpenAI envelope first.
package openai
