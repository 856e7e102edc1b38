// Package bundled is the registry of the tasks shipped inside the sia
// binary. The list in bundled.go is the only list of them: `sia tasks`
// prints it, and this package's tests check every registered task (and
// that every task folder here is registered).
//
// # Adding a bundled task
//
//  1. Make a folder task/bundled/<name>/ holding a Go package whose
//     Bundle() returns the task's *task.Bundle (copy demo/demo.go): an
//     embedded files FS with task.yaml (name: <name>, the metric, runtime,
//     items and splits; see task.Spec), task.md (what harnesses and agents
//     read) and reference/ (the reference harness), plus the Go Scorer
//     that verifies answers. A task whose data is made from a seed sets
//     Bundle.Generate (task.JSONLFiles writes the files); one whose data is
//     downloaded lists its files in task.yaml's data_files.
//  2. Add one line, <pkg>.Bundle, to the list in bundled.go, and its import.
//
// A bundled task is scored by its Bundle's Scorer and its data comes from
// its Bundle, so its task.yaml sets neither verifier: nor generator:
// (TestRegistry refuses them). `go test ./task/bundled/` then checks that
// it opens, has a reference harness, a task.md and a scorer.
package bundled
