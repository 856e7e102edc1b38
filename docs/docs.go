// Package docs embeds the project's reference documents so agents can read
// them (docs/harness.md is the Starlark API reference LLM agents get), and
// cuts a reference into sections an agent can read one at a time.
package docs

import (
	"embed"
	"strings"
)

// FS holds the reference documents agents may read: the harness API, the
// RL rule table, profiles, scaling and benchmarks. The offline tasks'
// design notes (demo.md, cipher.md, cipher-split.md) are left out on
// purpose: they describe the habits planted in the embedded models'
// corpora, which an agent should find from its rollouts, not read.
//
//go:embed harness.md rl.md profiles.md scaling.md benchmarks.md
var FS embed.FS

// HarnessFile is the harness API reference inside FS.
const HarnessFile = "harness.md"

// Section is one "## " section of a Markdown reference.
type Section struct {
	// Key names the section: the heading's words before any ":", without
	// backticks, lowercased and joined by "-" ("## `model`: the task model"
	// is "model", "## Harness file" is "harness-file").
	Key     string
	Heading string // the heading line without "## "
	Text    string // the section, heading line included, up to the next "## "
}

// Split cuts a Markdown document at its "## " headings (outside code
// fences). The text before the first heading is returned as the preamble.
func Split(doc string) (preamble string, sections []Section) {
	lines := strings.SplitAfter(doc, "\n")
	var cur *Section
	var pre strings.Builder
	fence := false
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(l, "## ") {
			if cur != nil {
				sections = append(sections, *cur)
			}
			h := strings.TrimSpace(strings.TrimPrefix(l, "## "))
			cur = &Section{Key: key(h), Heading: h}
		}
		if cur == nil {
			pre.WriteString(l)
		} else {
			cur.Text += l
		}
	}
	if cur != nil {
		sections = append(sections, *cur)
	}
	for i := range sections {
		sections[i].Text = strings.TrimRight(sections[i].Text, "\n") + "\n"
	}
	return strings.TrimRight(pre.String(), "\n") + "\n", sections
}

func key(heading string) string {
	h, _, _ := strings.Cut(heading, ":")
	h = strings.ReplaceAll(h, "`", "")
	return strings.Join(strings.Fields(strings.ToLower(h)), "-")
}

// Find returns the section named by q: its key, or a name the heading
// quotes in backticks (`ml`, `math`), or a key that starts with q.
func Find(sections []Section, q string) (Section, bool) {
	q = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(q), "## ")))
	if q == "" {
		return Section{}, false
	}
	for _, s := range sections {
		if s.Key == q || key(s.Heading) == key(q) {
			return s, true
		}
	}
	for _, s := range sections {
		if strings.Contains(strings.ToLower(s.Heading), "`"+q+"`") {
			return s, true
		}
	}
	for _, s := range sections {
		if strings.HasPrefix(s.Key, q) {
			return s, true
		}
	}
	return Section{}, false
}

// Keys lists the sections' keys in order.
func Keys(sections []Section) []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = s.Key
	}
	return out
}
