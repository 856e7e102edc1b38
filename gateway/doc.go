// Package gateway is the OpenAI-compatible HTTP server in front of the task
// model. Every harness runtime reaches the model through it: Python harnesses
// over HTTP (OPENAI_BASE_URL and OPENAI_API_KEY point here), Starlark
// harnesses in process through Gateway.Model, which takes the same routing
// and recording path without the HTTP hop.
//
// Routes: POST /v1/chat/completions (streaming SSE and not) and GET
// /v1/models. Requests authenticate with the per-run key (Bearer). The model
// name "policy" routes to the current task model and adapter version, which
// SetPolicy swaps atomically while calls are in flight; calls already
// running finish on the version they started with and are recorded as such.
//
// Each call is tagged with the item and sample it serves, from the
// X-SIA-Item header or the request's user field (see ParseTag), and written,
// with its messages, prompt and completion token ids, logprobs, usage and
// adapter version, into the trajectory.Recorder registered for that sample.
// Calls with no registered tag are still served and kept in a bounded
// untagged list.
//
// Concurrency towards the upstream is bounded by one semaphore that survives
// policy swaps. A client that goes away cancels its upstream call.
//
// Errors use the OpenAI envelope {"error":{"message","type","param","code"}}
// with ollama's rule: before the first byte of a response they carry a
// status code; once a stream has started (a keep-alive comment is sent while
// a slow upstream call runs) they arrive as a final in-band data line.
//
// Wire types and pure converters live in openai.go; HTTP plumbing in
// handler.go.
package gateway
