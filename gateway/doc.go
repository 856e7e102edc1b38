// Package gateway is the OpenAI-compatible HTTP server in front of the task
// model. Every harness runtime reaches the model through it: Python harnesses
// over HTTP (OPENAI_BASE_URL and OPENAI_API_KEY point here), Starlark
// harnesses in process through Route.Model, which takes the same routing
// and recording path without the HTTP hop.
//
// Routes: POST /v1/chat/completions (streaming SSE and not) and GET
// /v1/models. What a call is served by is a per-rollout value, not shared
// state: the loop opens a Route for each rollout with that rollout's task
// model and adapter version (Gateway.Route), and the route's own key, sent
// as a Bearer token, selects it. The model name "policy" routes to the
// route's model. Two rollouts (even concurrent ones) each get their own
// policy; nothing is swapped under a call in flight.
//
// Each call is tagged with the item and sample it serves, from the
// X-SIA-Item header or the request's user field (see ParseTag), and written,
// with its messages, prompt and completion token ids, logprobs, usage and
// adapter version, into the trajectory.Recorder registered for that sample.
// Calls with no registered tag are still served and kept in a bounded
// untagged list.
//
// Concurrency towards the upstream is bounded by one semaphore shared by
// every route. A client that goes away cancels its upstream call.
//
// Errors use the OpenAI envelope {"error":{"message","type","param","code"}}
// with ollama's rule: before the first byte of a response they carry a
// status code; once a stream has started (a keep-alive comment is sent while
// a slow upstream call runs) they arrive as a final in-band data line.
//
// Wire types and pure converters live in openai.go; HTTP plumbing in
// handler.go.
package gateway
