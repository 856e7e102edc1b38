// Package starlark is the embedded harness runtime: it runs a harness
// written in Starlark (go.starlark.net) in process, with a fixed set of
// builtins and no other door to files, network, clock or labels.
//
// A harness file may define KNOBS (knob → candidate values), setup(ctx),
// and must define solve(item) or solve(item, state). The builtins and the
// stdlib modules (model, log, knobs, re, json, math, data, text, retrieval,
// ml) are documented for harness authors in docs/harness.md; a test keeps
// that file in step with the code.
//
// Every call into Starlark runs under a step limit and a wall-clock limit
// and stops when its context ends; long Go builtins (model calls, ML fits)
// take the same context. Module globals and setup's result are frozen, so
// concurrent Solve calls share them safely.
//
// Adding a stdlib module is one file defining a builder
// func(*moduleEnv) (starlark.Value, error) plus one line in modules().
package starlark
