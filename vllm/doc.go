// Package vllm manages LoRA adapters on a running vLLM OpenAI-compatible
// server through its runtime routes, POST /v1/load_lora_adapter and
// POST /v1/unload_lora_adapter (the server must run with --enable-lora,
// --max-lora-rank ≥ the adapter rank, and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True).
//
// Each new adapter version is loaded under a fresh versioned name
// (policy-v0007). Names are never reused: vLLM caches adapters by name, so
// loading new weights under an old name can keep serving the stale ones.
// Publish loads the new version, calls the Switch hook (the loop points the
// gateway's "policy" route at the new name there), and then unloads the
// versions that are no longer needed.
//
// vLLM answers success with a plain-text body ("Success: LoRA adapter 'x'
// added successfully.") and errors with JSON in one of two shapes: the
// newer nested {"error":{"message","type","param","code"}} and the older
// flat {"object":"error","message","type","param","code"}. Both parse into
// *APIError; a duplicate name unwraps to ErrAlreadyLoaded and an unknown one
// to ErrNotFound.
package vllm
