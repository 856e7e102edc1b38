// Package sandbox starts untrusted processes — Python harnesses and task
// evaluators — so that they can reach only what a Policy names.
//
// The model is Flatpak's use of bubblewrap: one function (Args) turns a
// declarative Policy into the whole bwrap argument list, so the policy can
// be read in one place and tested as data. Under bubblewrap the process
// gets:
//
//   - a root filesystem that is an empty tmpfs holding only the runtime
//     (/usr and the interpreter's own prefix, a few /etc files), the mounts
//     the policy names (read-only unless marked writable) and a private,
//     size-capped /tmp — no home, no other run folders, no private data;
//   - its own PID, IPC, UTS and cgroup namespaces and a new session: it
//     cannot see or signal other processes, and everything it starts dies
//     when it exits (the namespace's init goes, the kernel kills the rest);
//   - no capabilities. Started by root, bwrap builds the mounts with its
//     privileges and then setpriv switches to an unprivileged uid (nobody)
//     with an empty bounding set and no_new_privs before the command runs,
//     so root's powers (unmounting, reading any file, ignoring process
//     limits) are gone. Started by a user, bwrap runs unprivileged in a new
//     user namespace with user namespaces disabled inside;
//   - resource limits set by prlimit inside the sandbox: address space,
//     processes, open files, file size, CPU seconds; a watcher caps the
//     bytes the writable mounts may hold; a hard wall-clock timeout.
//
// The network namespace is shared so the process can reach sia's gateway
// on loopback; docs/security.md says what that leaves open.
//
// Mode None runs the command without isolation (only the timeout, limits
// and process-group kill apply). Callers must ask for it explicitly.
//
// Outputs are data, not paths: ReadOutput opens a file inside a folder the
// sandboxed process could write without following links, refuses anything
// but a regular file, and caps what it reads.
package sandbox
