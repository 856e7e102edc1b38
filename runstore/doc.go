// Package runstore owns the run folder runs/run_<id>/: run.json (the config
// snapshot), the append-only events.jsonl (one completed step per line,
// fsynced), gen_<n>/ files and best/. Every file other than events.jsonl is
// written atomically (temp + rename), and a step's files are written before
// its event, so after a kill at any point the events say exactly which steps
// are complete. Resume is the pure Replay(events) → State.
package runstore
