// Package docs embeds the project's reference documents so agents can read
// them (docs/harness.md is the Starlark API reference LLM agents get).
package docs

import "embed"

// FS holds every Markdown file of this folder.
//
//go:embed *.md
var FS embed.FS
