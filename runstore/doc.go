// Package runstore owns the run folder runs/run_<id>/: its whole layout
// (layout.go: every file and folder name, gen_<n>/, best/, baseline/, the
// train rounds' files, run_<id> and sweep_<name> in a runs folder),
// run.json (the config snapshot), the append-only events.jsonl (one
// completed step per line, fsynced) and the lock. Other packages name a
// run folder's files only through this package. Every file other than
// events.jsonl is written atomically (temp + rename), and a step's files
// are written before its event, so after a kill at any point the events
// say exactly which steps are complete. Resume is the pure
// Replay(events) → State.
package runstore
