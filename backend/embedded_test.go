package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/task"
)

// TestBaseWithoutTrainSplit: a task folder without a train split (SIA's
// lawbench as some copies ship it) still gets a pretraining corpus for the
// embedded base model — its description — instead of failing with an
// empty one.
func TestBaseWithoutTrainSplit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lawbench")
	files := map[string]string{
		"data/public/task.md":   "# LawBench\n\n根据案件事实给出罪名。\n\nName the charge for the facts of a case.\n",
		"data/public/test.csv":  "id,text\nc1,案情一\nc2,案情二\nc3,案情三\n",
		"data/private/test.csv": "id,label\nc1,盗窃\nc2,诈骗\nc3,盗窃\n",
	}
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := task.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 0 || len(genericCorpus(d.Train)) != 0 {
		t.Fatalf("want no train split (%d examples)", len(d.Train))
	}
	docs := descriptionCorpus(tk)
	if len(docs) < 3 {
		t.Fatalf("description corpus has %d documents, want one per paragraph", len(docs))
	}
	for _, doc := range docs {
		if len(doc) != 2 || doc[0].Content == "" || doc[1].Content == "" {
			t.Errorf("document %v: want a user and an assistant turn", doc)
		}
		for _, m := range doc {
			if strings.Contains(m.Content, "诈骗") {
				t.Errorf("a gold label reached the corpus: %q", m.Content)
			}
		}
	}
}
