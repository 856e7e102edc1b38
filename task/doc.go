// Package task loads tasks: the spec (task.yaml, task.md), the items of each
// split, and — for the verifier only — the gold labels.
//
// A task folder has SIA's layout, unchanged: data/public/task.md,
// data/public/*, data/private/*, reference/, an optional evaluate.py, plus an
// optional task.yaml for what SIA leaves implicit. Without one the spec is
// inferred from the files (InferSIASpec), and the folder's evaluate.py is
// the verifier, run sandboxed over a scratch copy of the folder that holds
// only the gold of the split being scored (Evaluator, docs/tasks.md).
// ExportSIA writes a bundled task in that layout. Bundled tasks keep their
// spec and reference harness in an embed.FS and their data under
// SIA_DATA_DIR/<name>/{public,private}, or generate it from a seed.
//
// Splits: train (labelled, visible to harness setup), val (the loop's
// decisions use only this) and test (held out: scored once on the final
// incumbent). Items handed to harnesses never carry labels; Gold is the one
// door to labels and only the loop's verify step opens it.
package task
