// Package anthropic is the llm.Model backend for Claude over the Anthropic
// Messages API, built on the official anthropic-sdk-go v2 SDK.
//
// Messages map onto content blocks: system messages go to the top-level
// system prompt, assistant tool calls become tool_use blocks, and tool replies
// become tool_result blocks in the following user turn (consecutive tool
// replies share one user message, as the API requires). Stop reasons are
// mapped onto llm's finish reasons ("stop", "length", "tool_calls").
//
// The Messages API returns neither token ids nor logprobs, and the v2 API
// has no temperature, top_p or seed parameters: those Request fields are
// ignored. Request.N > 1 is served by N sequential calls.
//
// Retries are the SDK's (exponential backoff with jitter on connection
// errors, timeouts, 408, 409, 429 and 5xx, honouring retry-after); Config
// sets the retry count and the per-attempt timeout. Provider errors come back
// as *APIError, one line with status, type and message.
package anthropic
