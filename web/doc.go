// Package web is sia's dashboard: an http.Handler over read-only views of
// the run folders in one runs folder, in the manner of `go tool pprof
// -http` — net/http, html/template, and assets embedded in the binary
// (no CDN, no JS build chain; charts are SVG drawn on the server, and
// app.js is a few dozen lines of our own for live updates).
//
// It lists runs and shows, for one run, the score per generation with the
// incumbent line, each decision with its reasons (unknown fields rendered
// as they are), harness diffs between any two generations, the rollouts
// (item → samples → model calls, tool steps, reward, error), the training
// curves of each weight update, and tokens, seconds and cost. A page of a
// running run follows events.jsonl over server-sent events and redraws
// itself without a reload.
//
// Everything it shows comes from the run folder, which never holds gold
// labels; it reads nothing else and writes nothing. It serves on loopback
// by default; any other address needs a token, checked on every request.
package web
