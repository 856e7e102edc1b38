package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/llm"
)

// harnessDocs is docs/harness.md cut into sections.
type harnessDocs struct {
	preamble string
	sections []docs.Section
}

// loadHarnessDocs reads harness.md from the docs folder; nil when absent.
func loadHarnessDocs(fsys fs.FS) *harnessDocs {
	if fsys == nil {
		return nil
	}
	b, err := fs.ReadFile(fsys, docs.HarnessFile)
	if err != nil {
		return nil
	}
	pre, secs := docs.Split(string(b))
	return &harnessDocs{preamble: pre, sections: secs}
}

// Sections every Starlark prompt carries, before the ones the harness uses.
var coreSections = []string{"starlark-dialect", "api-index", "harness-file"}

// pythonSections are what a Python harness's prompt carries.
var pythonSections = []string{"python-harnesses"}

// moduleUse finds the stdlib modules a Starlark harness calls.
var moduleUse = regexp.MustCompile(`\b(model|re|json|math|data|text|retrieval|ml|chess)\.[a-z_]+`)

// forPrompt returns the reference as a prompt carries it: the preamble,
// the core sections and those of the modules the given harnesses use, in
// the document's order, and the keys of the sections left out (read_docs
// fetches them).
func (d *harnessDocs) forPrompt(runtime string, code ...[]byte) (text string, omitted []string) {
	want := map[string]bool{}
	keys := coreSections
	if runtime == "python" {
		keys = pythonSections
	}
	for _, k := range keys {
		want[k] = true
	}
	calls := map[string][]string{} // section key → functions the harness calls
	if runtime != "python" {
		for _, c := range code {
			for _, m := range moduleUse.FindAllSubmatch(c, -1) {
				if s, ok := docs.Find(d.sections, string(m[1])); ok {
					want[s.Key] = true
					calls[s.Key] = append(calls[s.Key], string(m[0]))
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(d.preamble))
	b.WriteString("\n")
	for _, s := range d.sections {
		switch {
		case !want[s.Key]:
			omitted = append(omitted, s.Key)
		case slices.Contains(keys, s.Key):
			b.WriteString("\n" + strings.TrimSpace(s.Text) + "\n")
		default:
			text, partial := usedParts(s.Text, calls[s.Key])
			b.WriteString("\n" + strings.TrimSpace(text) + "\n")
			if partial {
				omitted = append(omitted, s.Key+" (the parts for functions this harness does not call)")
			}
		}
	}
	return b.String(), omitted
}

// usedParts cuts a section with "### " subsections down to its
// introduction and the subsections that document a function the harness
// calls (a subsection documents mod.fn when it holds "`mod.fn("). A
// section without subsections, or one whose every subsection is used,
// comes whole.
func usedParts(text string, calls []string) (string, bool) {
	parts := strings.Split(text, "\n### ")
	if len(parts) < 3 {
		return text, false
	}
	var b strings.Builder
	b.WriteString(parts[0])
	kept := 0
	for _, p := range parts[1:] {
		used := false
		for _, c := range calls {
			if strings.Contains(p, "`"+c+"(") {
				used = true
				break
			}
		}
		if used {
			b.WriteString("\n### " + p)
			kept++
		}
	}
	if kept == len(parts)-1 {
		return text, false
	}
	return b.String(), true
}

// readDocsTool returns sections of docs/harness.md on demand.
func readDocsTool(d *harnessDocs) Tool {
	keys := docs.Keys(d.sections)
	return Tool{
		Spec: llm.Tool{
			Name: ToolReadDocs,
			Description: "Read one section of the harness API reference (docs/harness.md) in full. Sections: " + strings.Join(keys, ", ") +
				". A module name (ml, chess, …) names its section. No section: list them with their headings.",
			Parameters: schema(map[string]prop{"section": {typ: "string", desc: "section key or module name"}}),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Section string `json:"section"`
			}
			if err := decodeArgs(raw, &a); err != nil {
				return "", err
			}
			if strings.TrimSpace(a.Section) == "" {
				var b strings.Builder
				for _, s := range d.sections {
					fmt.Fprintf(&b, "%s\t## %s\t(%d bytes)\n", s.Key, s.Heading, len(s.Text))
				}
				return b.String(), nil
			}
			s, ok := docs.Find(d.sections, a.Section)
			if !ok {
				sorted := append([]string(nil), keys...)
				sort.Strings(sorted)
				return "", fmt.Errorf("no section %q; sections: %s", a.Section, strings.Join(sorted, ", "))
			}
			return s.Text, nil
		},
	}
}
