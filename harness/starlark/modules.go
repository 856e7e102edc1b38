package starlark

import (
	"io/fs"

	stjson "go.starlark.net/lib/json"
	stmath "go.starlark.net/lib/math"
	sl "go.starlark.net/starlark"
)

// moduleEnv is what a module may capture when a harness is loaded: values
// fixed for the harness's lifetime. Per-call things (context, model,
// recorder, seed) come from the calling thread; see stateOf.
type moduleEnv struct {
	// Public is the task's public data folder; nil when there is none (as
	// in Inspect).
	Public fs.FS
	// Knobs is the knob settings value handed to the harness.
	Knobs sl.Value
}

// module is one predeclared name.
type module struct {
	name  string
	build func(env *moduleEnv) (sl.Value, error)
}

// modules lists every predeclared name a harness sees. To add a stdlib
// module, write its builder in a new file and add one line here (and its
// section in docs/harness.md; TestDocsCoverEveryBuiltin checks).
func modules() []module {
	return []module{
		{"model", modelModule},
		{"log", logBuiltin},
		{"knobs", func(env *moduleEnv) (sl.Value, error) { return env.Knobs, nil }},
		{"re", reModule},
		{"json", func(*moduleEnv) (sl.Value, error) { return stjson.Module, nil }},
		{"math", func(*moduleEnv) (sl.Value, error) { return stmath.Module, nil }},
		{"data", dataModule},
		{"text", textModule},
		{"retrieval", retrievalModule},
		{"ml", mlModule},
		{"chess", chessModule},
	}
}

// predeclared builds the names a harness sees.
func predeclared(env *moduleEnv) (sl.StringDict, error) {
	out := sl.StringDict{}
	for _, m := range modules() {
		v, err := m.build(env)
		if err != nil {
			return nil, err
		}
		out[m.name] = v
	}
	return out, nil
}
