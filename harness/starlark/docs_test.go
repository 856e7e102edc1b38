package starlark

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
)

// objectsHarness builds one value of every type a builtin returns and
// reports each type's attributes, so the docs test sees what harness
// authors can reach.
const objectsHarness = `
def setup(ctx):
    return {"ctx": dir(ctx), "knobs": dir(knobs)}

def solve(item, s):
    v = ml.tfidf(["a b", "b c"])
    X = v.transform(["a b", "b c"])
    rows = [{"x": 1}, {"x": 2}]
    out = {
        "ctx": s["ctx"],
        "knobs": s["knobs"],
        "chat_response": dir(model.chat("hi")),
        "usage": dir(model.chat("hi").usage),
        "match": dir(re.search("a", "a")),
        "index": dir(retrieval.index(["a", "b"])),
        "vectorizer": dir(v),
        "matrix": dir(X),
        "linear_svm": dir(ml.linear_svm(X, ["p", "q"])),
        "logistic_regression": dir(ml.logistic_regression(X, ["p", "q"])),
        "knn": dir(ml.knn(X, ["p", "q"])),
        "text_classifier": dir(ml.text_classifier(["a", "b"], ["p", "q"])),
        "gbt": dir(ml.gbt(rows, ["p", "q"])),
        "gbt_regressor": dir(ml.gbt_regressor(rows, [1.0, 2.0])),
        "search_result": dir(chess.search("7k/8/8/8/8/8/8/K5R1 w - - 0 1", depth=1)),
        "knight_problem": dir(chess.knight_parse("chess board of size 8x8. Starting Position: (0, 0) Target Squares: [(1, 2), (2, 4)]")),
        "knight_tour": dir(chess.knight_tour(8, (0, 0), [(1, 2), (2, 4)])),
    }
    return json.encode(out)
`

// docPrefix maps a value type to how docs/harness.md names its members.
var docPrefix = map[string]string{"ctx": "ctx.", "usage": "`.", "chat_response": "chat_response."}

func TestDocsCoverEveryBuiltin(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "harness.md"))
	if err != nil {
		t.Fatalf("read docs/harness.md: %v", err)
	}
	doc := string(b)
	pre, err := predeclared(&moduleEnv{Knobs: &knobsValue{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pre) < 10 {
		t.Fatalf("only %d predeclared names", len(pre))
	}
	for name, v := range pre {
		if !strings.Contains(doc, "`"+name) {
			t.Errorf("docs/harness.md does not mention predeclared %q", name)
		}
		mod, ok := v.(*starlarkstruct.Module)
		if !ok {
			continue
		}
		for member := range mod.Members {
			if !strings.Contains(doc, name+"."+member) {
				t.Errorf("docs/harness.md does not mention %s.%s", name, member)
			}
		}
	}

	h, err := New(Config{}).LoadHarness(t.Context(), src(objectsHarness, nil), harness.Env{Model: llmtest.New("m", func(int, llm.Request) (*llm.Completion, error) {
		return llmtest.Text("ok"), nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := solve(t, h, item("i", nil))
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string][]string
	if err := json.Unmarshal([]byte(out), &attrs); err != nil {
		t.Fatal(err)
	}
	for typ, names := range attrs {
		if len(names) == 0 {
			t.Errorf("%s has no attributes", typ)
		}
		prefix, ok := docPrefix[typ]
		if !ok {
			prefix = typ + "."
		}
		for _, a := range names {
			if !strings.Contains(doc, prefix+a) {
				t.Errorf("docs/harness.md does not mention %s%s", prefix, a)
			}
		}
	}
}

// TestAPIIndexListsEveryBuiltin checks the API index, which LLM agents get
// in every prompt while the sections come on demand, names every
// predeclared module member (math's constants and functions as `math.*`).
func TestAPIIndexListsEveryBuiltin(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", docs.HarnessFile))
	if err != nil {
		t.Fatal(err)
	}
	_, secs := docs.Split(string(b))
	index, ok := docs.Find(secs, "api-index")
	if !ok {
		t.Fatal("docs/harness.md has no API index section")
	}
	pre, err := predeclared(&moduleEnv{Knobs: &knobsValue{}})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range pre {
		mod, ok := v.(*starlarkstruct.Module)
		if !ok {
			if !strings.Contains(index.Text, "`"+name) {
				t.Errorf("the API index does not list %s", name)
			}
			continue
		}
		for member := range mod.Members {
			want := name + "." + member
			if name == "math" {
				want = "math.*"
			}
			if !strings.Contains(index.Text, want) {
				t.Errorf("the API index does not list %s.%s", name, member)
			}
		}
	}
	for _, s := range secs {
		if s.Key != "api-index" && s.Key != "starlark-dialect" && !strings.Contains(index.Text, "`"+s.Key+"`") {
			t.Errorf("the API index does not point to section %s", s.Key)
		}
	}
}
