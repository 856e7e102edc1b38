package bundled

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

// These tests export each bundled task with data as a SIA task folder
// (task.ExportSIA), open it as `sia run --task-dir` does (no task.yaml:
// the spec is inferred), and check that the folder's evaluate.py — run
// sandboxed through the verifier the loop asks for — scores every answer
// exactly as the task's Go verifier does, item by item, on val and test.
// They also feed the same submission files to the Go reader and to
// evaluate.py. They need python3; bubblewrap is used where it runs.

// fixture is a small data folder in the bundled task's layout, with
// answers for the test split that cover the edge cases of its scorer.
type fixture struct {
	files map[string]string // relative to the data folder
	// edge answers, given to the test items in order (cycled).
	answers []string
	// submissions are whole files, fed to the Go reader and to evaluate.py.
	submissions map[string]string
}

func spaceshipFixture() fixture {
	var train, test, gold strings.Builder
	train.WriteString("PassengerId,CryoSleep,Age,Transported\n")
	test.WriteString("PassengerId,CryoSleep,Age\n")
	gold.WriteString("PassengerId,Transported\n")
	for i := range 40 {
		fmt.Fprintf(&train, "%04d_01,%v,%d,%v\n", i, i%3 == 0, 20+i, i%2 == 0)
	}
	for i := range 24 {
		fmt.Fprintf(&test, "%04d_02,%v,%d\n", i, i%3 == 0, 30+i)
		fmt.Fprintf(&gold, "%04d_02,%v\n", i, i%2 == 0)
	}
	return fixture{
		files: map[string]string{"public/train.csv": train.String(), "public/test.csv": test.String(),
			"public/sample_submission.csv": "PassengerId,Transported\n0000_02,False\n", "private/test.csv": gold.String()},
		answers: []string{"True", "true", " TRUE ", "t", "F", "yes", "No", "y", "n", "1", "0", "1.0", "0.0",
			"maybe", "", "\tfalse\n", "Yes ", "T.", "tru", "FALSE", "Y", "f"},
		submissions: map[string]string{
			"submission.csv":  "PassengerId,Transported\n0000_02,True\n0001_02,t\n0002_02,yes\n0003_02,maybe\n9999_99,True\n",
			"answers.csv":     "PassengerId,answer\n0000_02,1\n0001_02,0\n",
			"submission.json": `{"0000_02": true, "0001_02": "no", "0002_02": 1}`,
			"preds.json":      `[{"PassengerId": "0000_02", "prediction": "True"}, {"PassengerId": "0001_02", "solution": "f"}, {"PassengerId": "0002_02"}]`,
			"solution.csv":    "PassengerId,solution\n0000_02,True\n0003_02,n\n",
		},
	}
}

func lawbenchFixture() fixture {
	charges := []string{"盗窃", "诈骗", "[走私、贩卖、运输、制造]毒品", "故意伤害", "[组织、强迫、引诱、容留、介绍]卖淫"}
	var train, test, gold strings.Builder
	train.WriteString("id,text,label\n")
	test.WriteString("id,text\n")
	gold.WriteString("id,label\n")
	for i := range 30 {
		fmt.Fprintf(&train, "tr%d,被告人某甲于某日实施了行为%d。,%s\n", i, i, charges[i%len(charges)])
	}
	for i := range 24 {
		fmt.Fprintf(&test, "te%d,被告人某乙于某日实施了行为%d。\n", i, i)
		fmt.Fprintf(&gold, "te%d,%s\n", i, charges[i%len(charges)])
	}
	classes, _ := json.Marshal(charges)
	return fixture{
		files: map[string]string{"public/train.csv": train.String(), "public/test.csv": test.String(),
			"public/classes.json": string(classes), "private/test.csv": gold.String()},
		answers: []string{"盗窃", " 诈骗 ", "走私、贩卖、运输、制造毒品", "故意伤害罪", "[组织、强迫、引诱、容留、介绍]卖淫",
			"盗窃。", "［诈骗］", "［走私、贩卖、运输、制造］毒品", "", "故意伤害", "   ", "组织、强迫、引诱、容留、介绍卖淫"},
		submissions: map[string]string{
			"submission.csv":  "id,label\nte0,盗窃\nte1,[诈骗]\nte2,走私、贩卖、运输、制造毒品\nte3,\n",
			"lastcol.csv":     "id,text,prediction\nte0,x,诈骗\nte1,y,诈骗\n",
			"submission.json": `[{"id": "te0", "label": "盗窃"}, {"id": "te1", "answer": "诈骗"}]`,
		},
	}
}

func gpqaFixture() fixture {
	var pub, priv []map[string]any
	letters := "ABCD"
	for i := range 60 { // the bundled spec carves 40 of them into val
		q := map[string]any{"id": i, "Question": fmt.Sprintf("Which option is number %d?", i),
			"options": map[string]string{"A": "one", "B": "two", "C": "three", "D": "four"},
			"domain":  "Physics", "subdomain": "Counting"}
		pub = append(pub, q)
		p := map[string]any{"correct_answer_letter": string(letters[i%4])}
		for k, v := range q {
			p[k] = v
		}
		priv = append(priv, p)
	}
	pb, _ := json.MarshalIndent(pub, "", " ")
	vb, _ := json.MarshalIndent(priv, "", " ")
	return fixture{
		files: map[string]string{"public/diamond_questions.json": string(pb), "private/diamond_questions.json": string(vb)},
		answers: []string{"A", "b", "(C)", "D.", "**A**", "[b]", "The answer is C", "Answer: D", "answer is a",
			`{"answer": "B"}`, `\boxed{C}`, "B or C", "E", "", "AB", "ABCD", "I pick option d", "Thinking...\nC) three",
			"  d  ", `{"answer": "(a)"}`, "answer: (B)", "The choice should be C."},
		submissions: map[string]string{
			"submission.json": `{"details": [{"question_id": 0, "model_answer": "A"}, {"question_id": 1, "model_answer": "The answer is B"}, {"question_id": 2}]}`,
			"answers.json":    `{"answers": {"0": "A", " 1 ": "b", "3": "D"}}`,
			"flat.json":       `{"model": "x", "0": "C", "1": "B", "2": {"nested": 1}, "3": 4}`,
			"records.json":    `[{"id": 0, "correct_answer_letter": "A"}, {"id": 1, "answer": "C"}]`,
			"submission.csv":  "id,answer\n0,A\n1,The answer is B\n",
		},
	}
}

func longcotFixture() fixture {
	type q struct {
		ID      string          `json:"question_id"`
		Prompt  string          `json:"prompt"`
		Problem map[string]any  `json:"problem"`
		Answer  json.RawMessage `json:"answer,omitempty"`
	}
	var train, pub []q
	var gold []map[string]json.RawMessage
	for i := range 12 {
		tpl, ans := "knight_path", json.RawMessage(fmt.Sprint(200+i))
		if i%2 == 1 {
			tpl, ans = "best_3_moves", json.RawMessage(`["Qh5+","Kf8","Qf7#"]`)
		}
		train = append(train, q{fmt.Sprintf("train_%d", i), "p", map[string]any{"template": tpl}, ans})
	}
	for i := range 24 {
		tpl, ans := "knight_path", json.RawMessage(fmt.Sprint(210+i%3))
		if i%2 == 1 {
			tpl, ans = "best_3_moves", json.RawMessage(`["c4","bxc4","Bxc4+"]`)
		}
		id := fmt.Sprintf("hard_%d", i)
		pub = append(pub, q{id, "p", map[string]any{"template": tpl}, nil})
		gold = append(gold, map[string]json.RawMessage{"question_id": json.RawMessage(`"` + id + `"`), "answer": ans})
	}
	tb, _ := json.MarshalIndent(train, "", " ")
	pb, _ := json.MarshalIndent(pub, "", " ")
	gb, _ := json.MarshalIndent(gold, "", " ")
	return fixture{
		files: map[string]string{"public/train.json": string(tb), "public/chess_hard.json": string(pb), "private/answers.json": string(gb)},
		// Item i's gold: even i a knight_path integer 210+i%3, odd i the list c4 bxc4 Bxc4+.
		answers: []string{"210", "solution = [c4, bxc4, Bxc4]", "solution = 212.0", `["c4","bxc4","Bxc4+"]`, "211",
			"c4 bxc4 Bxc4#", "0211", "solution = ['c4', 'bxc4', 'Bxc4']", "I think 1\nsolution = 213\nsolution: 212",
			"[c4, bxc4]", "", "null", "abc", "[1, 2, 3]", "1e2", "solution = [c4, Nf3, Bxc4]", "**212**", "218",
			"`210`", "[c4, bxc4, Bxc4!?]", "[210]", "solution = [\"c4\", \"bxc4\", \"Bxc4\"]"},
		submissions: map[string]string{
			"responses.json": `[{"question_id": "hard_0", "solution": 210}, {"question_id": "hard_1", "solution": ["c4", "bxc4", "Bxc4"]},
				{"question_id": "hard_2", "solution": null}, {"question_id": "hard_3", "answer": "c4 bxc4 Bxc4"}, {"question_id": "hard_4", "solution": "212"}]`,
			"flat.json":      `{"hard_0": 210, "hard_1": "[c4, bxc4, Bxc4]"}`,
			"submission.csv": "question_id,solution\nhard_0,210\nhard_1,\"[c4, bxc4, Bxc4]\"\n",
		},
	}
}

var fixtures = map[string]func() fixture{
	"spaceship-titanic": spaceshipFixture,
	"lawbench":          lawbenchFixture,
	"gpqa":              gpqaFixture,
	"longcot-chess":     longcotFixture,
}

// testSandbox is bubblewrap where it runs here, else no isolation (the
// scoring is the same; the isolation has its own tests in package sandbox).
func testSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: evaluate.py cannot run")
	}
	sb, err := sandbox.New(t.Context(), sandbox.ModeBwrap)
	if errors.Is(err, sandbox.ErrUnavailable) {
		t.Logf("bubblewrap unavailable (%v): evaluate.py runs without isolation", err)
		sb, err = sandbox.New(t.Context(), sandbox.ModeNone)
	}
	if err != nil {
		t.Skipf("no sandbox: %v", err)
	}
	return sb
}

// exported writes the fixture's data, exports the bundled task as a SIA
// task folder and opens that folder with its evaluate.py as the verifier.
func exported(t *testing.T, name string, fx fixture, sb *sandbox.Sandbox) (bundle, folder *task.Task, dir string) {
	t.Helper()
	dataRoot := t.TempDir()
	for rel, body := range fx.files {
		p := filepath.Join(dataRoot, name, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err = reg.Open(name, task.Options{DataRoot: dataRoot})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rep, err := task.ExportSIA(t.Context(), bundle, root)
	if err != nil {
		t.Fatal(err)
	}
	folder, err = task.OpenDir(rep.Dir, reg)
	if err != nil {
		t.Fatal(err)
	}
	if folder.Spec.Verifier != "evaluate.py" {
		t.Fatalf("exported folder is scored by %q, want its evaluate.py", folder.Spec.Verifier)
	}
	return bundle, folder.WithEvaluator(task.Evaluator{Sandbox: sb, TempDir: t.TempDir()}), rep.Dir
}

// TestEvaluatePyAgreesWithGoVerifier is the done-criterion at the
// package level: for each bundled task with data, the same answers scored
// by the Go verifier and by the exported folder's evaluate.py (sandboxed,
// from its scratch task copy) give the same status and reward per item and
// the same accuracy, on the test split and on the val split the folder
// carves for itself.
func TestEvaluatePyAgreesWithGoVerifier(t *testing.T) {
	sb := testSandbox(t)
	for name, mk := range fixtures {
		t.Run(name, func(t *testing.T) {
			fx := mk()
			bundle, folder, _ := exported(t, name, fx, sb)
			d, err := folder.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, split := range []string{task.Test, task.Val} {
				gold := d.Gold(split)
				ids := sortedKeys(gold)
				if len(ids) == 0 {
					t.Fatalf("%s split is empty", split)
				}
				answers := map[string]string{}
				for i, id := range ids {
					if i == len(ids)-1 && len(ids) > 2 {
						break // the last item stays unanswered: missing
					}
					answers[id] = fx.answers[i%len(fx.answers)]
				}
				goV, err := bundle.Verifier(split)
				if err != nil {
					t.Fatal(err)
				}
				pyV, err := folder.Verifier(split)
				if err != nil {
					t.Fatal(err)
				}
				want, err := goV.Verify(t.Context(), answers, gold)
				if err != nil {
					t.Fatal(err)
				}
				got, err := pyV.Verify(t.Context(), answers, gold)
				if err != nil {
					t.Fatal(err)
				}
				compareResults(t, split, answers, want, got)
			}
		})
	}
}

func compareResults(t *testing.T, what string, answers map[string]string, want, got *verify.Result) {
	t.Helper()
	t.Logf("%s: Go %s %.4f %v; evaluate.py %.4f %v", what, want.Metric, want.Score, want.Counts, got.Score, got.Counts)
	if got.Metric != want.Metric || abs(got.Score-want.Score) > 1e-12 || got.N != want.N {
		t.Errorf("%s: evaluate.py %s %.6f over %d, Go %s %.6f over %d", what, got.Metric, got.Score, got.N, want.Metric, want.Score, want.N)
	}
	for i := range min(len(got.Items), len(want.Items)) {
		g, w := got.Items[i], want.Items[i]
		if g.ID != w.ID || g.Status != w.Status || g.Reward != w.Reward {
			t.Errorf("%s item %s answer %q: evaluate.py %s %.0f (%s), Go %s %.0f (%s)", what, w.ID, answers[w.ID],
				g.Status, g.Reward, g.Detail, w.Status, w.Reward, w.Detail)
		}
	}
	for k, v := range want.Metrics {
		if gv, ok := got.Metrics[k]; !ok || abs(gv-v) > 1e-9 {
			t.Errorf("%s metric %s: evaluate.py %v (present %v), Go %v", what, k, gv, ok, v)
		}
	}
}

// TestSubmissionFilesScoreAlike feeds whole submission files — the formats
// each task's reader accepts — to the Go path (`sia verify`: the bundle's
// ParseSubmission, then its scorer) and to evaluate.py --submission.
func TestSubmissionFilesScoreAlike(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	sb := testSandbox(t)
	for name, mk := range fixtures {
		t.Run(name, func(t *testing.T) {
			fx := mk()
			bundle, folder, dir := exported(t, name, fx, sb)
			d, err := folder.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// evaluate.py scores against data/private as exported: the
			// test items, and the val items when val was carved from them.
			gold := map[string]string{}
			for id, l := range d.Gold(task.Test) {
				gold[id] = l
			}
			if folder.Spec.Splits[task.Val].CarveFrom == task.Test {
				for id, l := range d.Gold(task.Val) {
					gold[id] = l
				}
			}
			goV, err := bundle.Verifier(task.Test)
			if err != nil {
				t.Fatal(err)
			}
			for file, body := range fx.submissions {
				t.Run(file, func(t *testing.T) {
					answers, err := bundle.ParseSubmission(file, []byte(body))
					if err != nil {
						t.Fatalf("Go reader: %v", err)
					}
					want, err := goV.Verify(t.Context(), answers, gold)
					if err != nil {
						t.Fatal(err)
					}
					sub := filepath.Join(t.TempDir(), file)
					if err := os.WriteFile(sub, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
					out := filepath.Join(t.TempDir(), "results.json")
					cmd := exec.CommandContext(t.Context(), "python3", filepath.Join(dir, "data", "public", "evaluate.py"), "--submission", sub, "--output", out)
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("evaluate.py: %v\n%s", err, b)
					}
					raw, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					got, err := verify.ParseSIAResults(raw, verify.Spec{Metric: "accuracy", Higher: true}, answers, gold)
					if err != nil {
						t.Fatal(err)
					}
					compareResults(t, file, answers, want, got)
				})
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
