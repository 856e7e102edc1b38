package task

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/sandbox"
)

// writeFolder writes a SIA task folder to disk and opens it.
func writeFolder(t *testing.T, files map[string]string) (*Task, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "task")
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tk, dir
}

func csvFolder() map[string]string {
	train := "PassengerId,Age,Transported\n"
	for _, id := range []string{"t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15", "t16", "t17", "t18", "t19", "t20"} {
		train += id + ",30,True\n"
	}
	return map[string]string{
		"data/public/train.csv":    train,
		"data/public/test.csv":     "PassengerId,Age\nq1,4\nq2,5\nq3,6\n",
		"data/public/classes.json": `["True", "False"]`,
		"data/public/task.md":      "task",
		"data/public/evaluate.py":  "print('evaluate')\n",
		"data/public/helper.py":    "X = 1\n",
		"data/private/test.csv":    "PassengerId,Transported,Note\nq1,False,n1\nq2,True,n2\nq3,False,n3\n",
		"data/private/other.csv":   "secret\nsomething\n",
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEvalLayout checks what evaluate.py gets to see for each split: the
// gold of exactly the ids being scored, in the gold file's own name,
// format and columns (a val item carved from train.csv gets a row made
// from its train row); no other private file; the public files splits
// read, cut to the scored items without labels; the submission in the
// gold's id and label columns.
func TestEvalLayout(t *testing.T) {
	tk, _ := writeFolder(t, csvFolder())
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{Val, Test, Train} {
		t.Run(split, func(t *testing.T) {
			gold := d.Gold(split)
			if split == Train { // a weight update scores train rollouts
				gold = map[string]string{}
				for _, e := range d.Train[:5] {
					gold[e.ID] = e.Label
				}
			}
			answers := map[string]string{}
			for id := range gold {
				answers[id] = "yes"
			}
			root := t.TempDir()
			lay, err := tk.layOutEval(root, "data/public/evaluate.py", split, answers, gold)
			if err != nil {
				t.Fatal(err)
			}
			got := readTree(t, lay.TaskDir)
			for _, want := range []string{"data/public/evaluate.py", "data/public/helper.py", "data/public/classes.json", "data/public/task.md", "data/private/test.csv"} {
				if _, ok := got[want]; !ok {
					t.Errorf("missing %s (have %v)", want, keys(got))
				}
			}
			if _, ok := got["data/private/other.csv"]; ok {
				t.Error("a private file other than the gold reached the evaluator")
			}
			priv := got["data/private/test.csv"]
			lines := strings.Split(strings.TrimSpace(priv), "\n")
			if lines[0] != "PassengerId,Transported,Note" || len(lines) != len(gold)+1 {
				t.Fatalf("private/test.csv:\n%s\nwant the header and %d rows", priv, len(gold))
			}
			for _, l := range lines[1:] {
				f := strings.Split(l, ",")
				if g, ok := gold[f[0]]; !ok || g != f[1] {
					t.Errorf("gold row %q: id not scored in %s, or label %q differs", l, split, g)
				}
			}
			for _, f := range []string{"data/public/train.csv", "data/public/test.csv"} {
				if strings.Contains(got[f], "Transported") {
					t.Errorf("%s keeps the label column:\n%s", f, got[f])
				}
				for _, l := range strings.Split(strings.TrimSpace(got[f]), "\n")[1:] {
					if _, ok := gold[strings.Split(l, ",")[0]]; !ok {
						t.Errorf("%s holds %q, not an item being scored", f, l)
					}
				}
			}
			sub := readTree(t, lay.GenDir)
			s := strings.Split(strings.TrimSpace(sub["submission.csv"]), "\n")
			if s[0] != "PassengerId,Transported" || len(s) != len(gold)+1 {
				t.Errorf("submission.csv:\n%s", sub["submission.csv"])
			}
		})
	}
}

// TestEvalLayoutJSON keeps a JSON gold file's shape and value types: ids
// that are numbers stay numbers in the gold and in the submission.
func TestEvalLayoutJSON(t *testing.T) {
	pub, priv := []map[string]any{}, []map[string]any{}
	for i := range 10 {
		pub = append(pub, map[string]any{"id": i, "q": "question"})
		priv = append(priv, map[string]any{"id": i, "q": "question", "correct_answer_letter": "ABCD"[i%4 : i%4+1]})
	}
	pb, _ := json.Marshal(pub)
	vb, _ := json.Marshal(priv)
	tk, _ := writeFolder(t, map[string]string{
		"data/public/diamond_questions.json":  string(pb),
		"data/private/diamond_questions.json": string(vb),
		"evaluate.py":                         "print(1)\n",
	})
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	gold := d.Gold(Val)
	answers := map[string]string{}
	for id := range gold {
		answers[id] = "B"
	}
	lay, err := tk.layOutEval(t.TempDir(), "evaluate.py", Val, answers, gold)
	if err != nil {
		t.Fatal(err)
	}
	got := readTree(t, lay.TaskDir)
	var goldRows []map[string]any
	if err := json.Unmarshal([]byte(got["data/private/diamond_questions.json"]), &goldRows); err != nil {
		t.Fatal(err)
	}
	if len(goldRows) != len(gold) {
		t.Fatalf("gold rows %d, want %d (val only)", len(goldRows), len(gold))
	}
	for _, r := range goldRows {
		if _, isNum := r["id"].(float64); !isNum || r["correct_answer_letter"] == nil || r["q"] != "question" {
			t.Errorf("gold row %v: want the original row, numeric id", r)
		}
	}
	var subRows []map[string]any
	if err := json.Unmarshal([]byte(readTree(t, lay.GenDir)["submission.json"]), &subRows); err != nil {
		t.Fatal(err)
	}
	for _, r := range subRows {
		if _, isNum := r["id"].(float64); !isNum || r["correct_answer_letter"] != "B" || len(r) != 2 {
			t.Errorf("submission row %v: want {id: <number>, correct_answer_letter: answer}", r)
		}
	}
	if _, ok := got["evaluate.py"]; !ok {
		t.Error("a root evaluate.py is not copied")
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEvaluatorSeesOnlyItsSplit runs an evaluate.py that tries to read the
// task folder's own private/test.csv by absolute path while val is being
// scored, and reports what it read as its score. Under bubblewrap it finds
// nothing: the evaluator sees the scratch copy, not the task folder.
func TestEvaluatorSeesOnlyItsSplit(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	sb, err := sandbox.New(t.Context(), sandbox.ModeBwrap)
	if errors.Is(err, sandbox.ErrUnavailable) {
		t.Skipf("bubblewrap unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	files := csvFolder()
	tk, dir := writeFolder(t, files)
	secret := filepath.Join(dir, "data", "private", "test.csv")
	files["data/public/evaluate.py"] = `import argparse, csv, json, os, pathlib
p = argparse.ArgumentParser(); p.add_argument("--gen-dir"); a = p.parse_args()
here = pathlib.Path(__file__).resolve().parent.parent / "private" / "test.csv"
mine = [r["PassengerId"] for r in csv.DictReader(open(here))]
try:
    open(` + "'" + secret + "'" + `).read(); leaked = 1
except OSError:
    leaked = 0
sub = {r["PassengerId"]: r["Transported"] for r in csv.DictReader(open(os.path.join(a.gen_dir, "submission.csv")))}
items = [{"id": i, "status": "CORRECT" if i in sub else "MISSING", "output": sub.get(i), "detail": "seen"} for i in mine]
json.dump({"summary": {"accuracy": float(leaked), "n_gold": len(mine)}, "items": items}, open(os.path.join(a.gen_dir, "results.json"), "w"))
`
	if err := os.WriteFile(filepath.Join(dir, "data", "public", "evaluate.py"), []byte(files["data/public/evaluate.py"]), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v, err := tk.WithEvaluator(Evaluator{Sandbox: sb, TempDir: t.TempDir()}).Verifier(Val)
	if err != nil {
		t.Fatal(err)
	}
	gold := d.Gold(Val)
	answers := map[string]string{}
	for id := range gold {
		answers[id] = "True"
	}
	res, err := v.Verify(t.Context(), answers, gold)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 0 {
		t.Error("evaluate.py read the task folder's test gold while scoring val")
	}
	if res.Metrics["n_gold"] != float64(len(gold)) || res.Counts["correct"] != len(gold) {
		t.Errorf("n_gold %v counts %v, want the %d val ids only", res.Metrics["n_gold"], res.Counts, len(gold))
	}
	// Control: without isolation the same script does read it, so the
	// check above can tell.
	none, err := sandbox.New(t.Context(), sandbox.ModeNone)
	if err != nil {
		t.Fatal(err)
	}
	v, err = tk.WithEvaluator(Evaluator{Sandbox: none, TempDir: t.TempDir()}).Verifier(Val)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = v.Verify(t.Context(), answers, gold); err != nil {
		t.Fatal(err)
	} else if res.Score != 1 {
		t.Errorf("control without a sandbox: score %v, want 1 (the script reads the file)", res.Score)
	}
	if _, err := tk.Verifier(Val); err == nil || !strings.Contains(err.Error(), "sandbox") {
		t.Errorf("a verifier without a sandbox: %v, want an error naming it", err)
	}
}
