// Package isolate runs a harness runtime (the Starlark one) in a worker
// process, so a harness that exhausts memory, or crashes its interpreter,
// fails its items with a clear error while sia and the run go on.
//
// Starlark has no memory accounting: `[0] * 10**9`, doubling strings, or
// `"".join([s] * n)` allocate gigabytes in a single step, and the Go
// runtime ends the whole process when an allocation fails. The worker —
// the sia binary started as `sia __harness-worker` — has its address space
// capped (prlimit) and a soft Go memory limit below it; when it dies, the
// parent fails the item being solved with the reason ("the harness
// exceeded its memory limit"), restarts the worker for the next item (up
// to a bound), and never loses its own state. A resumed run meets the
// same item in a fresh worker, with the same outcome.
//
// The protocol is JSON lines over the worker's stdin and stdout
// (wire.go). The task model stays in the parent: the worker's model calls
// come back as requests the parent serves, so they are recorded, budgeted
// and routed to the current adapter exactly as in-process calls are. The
// worker records its own trajectory steps and returns them with each
// answer.
package isolate
