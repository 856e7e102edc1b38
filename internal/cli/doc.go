// Package cli holds sia's cobra commands, one file per command. Each RunE
// parses flags into a typed options struct, validates it and calls the
// library packages; it holds no business logic. SIA_* environment variables
// are read only here (env.go) and passed down as values. Output goes to the
// injected Streams.
package cli
