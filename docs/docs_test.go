package docs

import (
	"io/fs"
	"strings"
	"testing"
)

func TestAgentsReadTheReferenceNotTheTaskDesigns(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"harness.md", true},
		{"rl.md", true},
		{"demo.md", false},
		{"cipher.md", false},
		{"cipher-split.md", false},
	}
	for _, tt := range tests {
		_, err := fs.Stat(FS, tt.name)
		if got := err == nil; got != tt.want {
			t.Errorf("%s in the agents' docs: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSplitAndFind(t *testing.T) {
	doc := "# Title\n\nintro\n\n## `model`: the task model\n\ntext\n```\n## not a heading\n```\n## `json` and `math`\n\nj\n## Harness file\n\nh\n"
	pre, secs := Split(doc)
	if pre != "# Title\n\nintro\n" {
		t.Errorf("preamble %q", pre)
	}
	if got := strings.Join(Keys(secs), ","); got != "model,json-and-math,harness-file" {
		t.Fatalf("keys %s", got)
	}
	if !strings.Contains(secs[0].Text, "## not a heading") || !strings.HasPrefix(secs[0].Text, "## `model`") {
		t.Errorf("model section %q", secs[0].Text)
	}
	for q, want := range map[string]string{"model": "model", "math": "json-and-math", "json": "json-and-math",
		"Harness file": "harness-file", "harness": "harness-file", "## `model`: the task model": "model"} {
		s, ok := Find(secs, q)
		if !ok || s.Key != want {
			t.Errorf("Find(%q) = %q, %v; want %q", q, s.Key, ok, want)
		}
	}
	if _, ok := Find(secs, "nope"); ok {
		t.Error("found a missing section")
	}
}

// TestHarnessReferenceSections checks the real reference splits into the
// sections the agents' prompts and read_docs name.
func TestHarnessReferenceSections(t *testing.T) {
	b, err := fs.ReadFile(FS, HarnessFile)
	if err != nil {
		t.Fatal(err)
	}
	_, secs := Split(string(b))
	want := []string{"starlark-dialect", "api-index", "harness-file", "model", "re", "json-and-math", "data", "text",
		"retrieval", "ml", "chess", "python-harnesses"}
	if got := strings.Join(Keys(secs), ","); got != strings.Join(want, ",") {
		t.Errorf("sections %s\nwant     %s", got, strings.Join(want, ","))
	}
}
