// Package docs embeds the project's reference documents so agents can read
// them (docs/harness.md is the Starlark API reference LLM agents get).
package docs

import "embed"

// FS holds the reference documents agents may read: the harness API, the
// RL rule table, profiles, scaling and benchmarks. The offline tasks'
// design notes (demo.md, cipher.md) are left out on purpose: they describe
// the habits planted in the embedded models' corpora, which an agent
// should find from its rollouts, not read.
//
//go:embed harness.md rl.md profiles.md scaling.md benchmarks.md
var FS embed.FS
