// Package siaeval assembles the evaluate.py sia writes into the SIA task
// folders it exports (`sia data export-sia`): a shared prelude (the
// command line, SIA's results.json, and Go-faithful text helpers) and the
// task's own scoring, kept beside its Go verifier in
// task/bundled/<name>/evaluate.py.
package siaeval
