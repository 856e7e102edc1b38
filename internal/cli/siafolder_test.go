package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// siaCase is a bundled task with a small data folder in its layout and a
// harness whose answers cover its scorer's edge cases.
type siaCase struct {
	task    string
	files   map[string]string // relative to SIA_DATA_DIR/<task>
	answers []string          // the harness answers answers[hash(id) % len]
}

func siaCases() []siaCase {
	var train, test, gold strings.Builder
	train.WriteString("PassengerId,CryoSleep,Age,Transported\n")
	test.WriteString("PassengerId,CryoSleep,Age\n")
	gold.WriteString("PassengerId,Transported\n")
	for i := range 60 {
		fmt.Fprintf(&train, "%04d_01,%v,%d,%v\n", i, i%3 == 0, 20+i, i%2 == 0)
	}
	for i := range 20 {
		fmt.Fprintf(&test, "%04d_02,%v,%d\n", i, i%3 == 0, 30+i)
		fmt.Fprintf(&gold, "%04d_02,%v\n", i, i%2 == 0)
	}
	var qs, qg []map[string]any
	for i := range 50 {
		q := map[string]any{"id": i, "Question": fmt.Sprintf("question %d", i), "options": map[string]string{"A": "a", "B": "b", "C": "c", "D": "d"}}
		qs = append(qs, q)
		qg = append(qg, map[string]any{"id": i, "Question": q["Question"], "options": q["options"], "correct_answer_letter": "ABCD"[i%4 : i%4+1]})
	}
	qsb, _ := json.Marshal(qs)
	qgb, _ := json.Marshal(qg)
	var lawTrain, lawTest, lawGold strings.Builder
	charges := []string{"盗窃", "诈骗", "[走私、贩卖、运输、制造]毒品"}
	lawTrain.WriteString("id,text,label\n")
	lawTest.WriteString("id,text\n")
	lawGold.WriteString("id,label\n")
	for i := range 40 {
		fmt.Fprintf(&lawTrain, "tr%d,案情%d,%s\n", i, i, charges[i%3])
	}
	for i := range 15 {
		fmt.Fprintf(&lawTest, "te%d,案情%d\n", i, 100+i)
		fmt.Fprintf(&lawGold, "te%d,%s\n", i, charges[i%3])
	}
	var chessTrain, chessPub, chessGold []map[string]any
	for i := range 16 {
		var ans any = 200 + i%3
		if i%2 == 1 {
			ans = []string{"c4", "bxc4", "Bxc4+"}
		}
		chessTrain = append(chessTrain, map[string]any{"question_id": fmt.Sprintf("train_%d", i), "prompt": "p", "answer": ans})
		id := fmt.Sprintf("hard_%d", i)
		chessPub = append(chessPub, map[string]any{"question_id": id, "prompt": "p"})
		chessGold = append(chessGold, map[string]any{"question_id": id, "answer": ans})
	}
	ctb, _ := json.Marshal(chessTrain)
	cpb, _ := json.Marshal(chessPub)
	cgb, _ := json.Marshal(chessGold)
	return []siaCase{
		{task: "longcot-chess", files: map[string]string{"public/train.json": string(ctb), "public/chess_hard.json": string(cpb), "private/answers.json": string(cgb)},
			answers: []string{"200", "solution = 201.0", "[c4, bxc4, Bxc4]", "c4 bxc4 Bxc4#", "202", "null", "abc", "[c4, bxc4]"}},
		{task: "spaceship-titanic", files: map[string]string{"public/train.csv": train.String(), "public/test.csv": test.String(), "private/test.csv": gold.String()},
			answers: []string{"True", "t", "no", "Yes ", "1", "0", "1.0", "maybe", "F"}},
		{task: "gpqa", files: map[string]string{"public/diamond_questions.json": string(qsb), "private/diamond_questions.json": string(qgb)},
			answers: []string{"A", "b", "The answer is C", "{\"answer\": \"D\"}", "E", "B or C", "(a)"}},
		{task: "lawbench", files: map[string]string{"public/train.csv": lawTrain.String(), "public/test.csv": lawTest.String(),
			"public/classes.json": `["盗窃", "诈骗", "[走私、贩卖、运输、制造]毒品"]`, "private/test.csv": lawGold.String()},
			answers: []string{"盗窃", "诈骗", "走私、贩卖、运输、制造毒品", "盗窃罪", ""}},
	}
}

// TestExportedSIAFolderScoresLikeGo is the done-criterion from the
// command line: export a bundled task as a SIA task folder (sia data
// export-sia), run it with sia run --task-dir for one generation with
// --mode harness — scored by the folder's evaluate.py, sandboxed — and
// check that the val score of gen 1 and the held-out test score are what
// the task's Go verifier gives the same answers, item by item.
func TestExportedSIAFolderScoresLikeGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the loop three times")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: evaluate.py cannot run")
	}
	mode := "bwrap"
	if _, err := sandbox.New(t.Context(), sandbox.ModeBwrap); errors.Is(err, sandbox.ErrUnavailable) {
		t.Logf("bubblewrap unavailable (%v): --sandbox none", err)
		mode = "none"
	}
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range siaCases() {
		t.Run(tc.task, func(t *testing.T) {
			dataDir, root, runs := t.TempDir(), t.TempDir(), t.TempDir()
			for rel, body := range tc.files {
				p := filepath.Join(dataDir, tc.task, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"SIA_DATA_DIR": dataDir, "SIA_CACHE_DIR": t.TempDir()}
			if _, stderr, code := runCLI(t, env, "data", "export-sia", tc.task, root); code != 0 {
				t.Fatalf("export-sia: exit %d: %s", code, stderr)
			}
			dir := filepath.Join(root, tc.task)
			if _, err := os.Stat(filepath.Join(dir, "task.yaml")); err == nil {
				t.Fatal("the exported folder has a task.yaml")
			}
			quoted, _ := json.Marshal(tc.answers)
			h := filepath.Join(t.TempDir(), "edge.star")
			code := fmt.Sprintf("ANSWERS = %s\n\ndef solve(item):\n    return ANSWERS[hash(item[\"id\"]) %% len(ANSWERS)]\n", quoted)
			if err := os.WriteFile(h, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, exit := runCLI(t, env, "run", "--task-dir", dir, "--mode", "harness", "--max-gen", "1",
				"--harness", h, "--runs-dir", runs, "--sandbox", mode, "--confirm-frac", "0") // every val item is scored in gen 1
			if exit != 0 {
				t.Fatalf("run: exit %d: %s", exit, stderr)
			}
			folder, err := task.OpenDir(dir, reg)
			if err != nil {
				t.Fatal(err)
			}
			d, err := folder.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			bundle, err := reg.Open(tc.task, task.Options{DataRoot: dataDir})
			if err != nil {
				t.Fatal(err)
			}
			run := filepath.Join(runs, "run_1")
			for _, sc := range []struct{ split, rollouts, results string }{
				{task.Val, "gen_1/rollouts.jsonl", "gen_1/results.json"},
				{task.Test, "best/test_rollouts.jsonl", "best/test_results.json"},
			} {
				answers := readAnswers(t, filepath.Join(run, sc.rollouts))
				gold := d.Gold(sc.split)
				if len(answers) != len(gold) {
					t.Fatalf("%s: %d answers for %d items", sc.split, len(answers), len(gold))
				}
				goV, err := bundle.Verifier(sc.split)
				if err != nil {
					t.Fatal(err)
				}
				want, err := goV.Verify(t.Context(), answers, gold)
				if err != nil {
					t.Fatal(err)
				}
				var got verify.Result
				b, err := os.ReadFile(filepath.Join(run, sc.results))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: evaluate.py %.4f %v; Go %.4f %v", sc.split, got.Score, got.Counts, want.Score, want.Counts)
				if got.Score != want.Score || got.N != want.N {
					t.Errorf("%s: the run scored %.6f over %d, the Go verifier %.6f over %d", sc.split, got.Score, got.N, want.Score, want.N)
				}
				if want.Counts[verify.StatusCorrect] == 0 || want.Counts[verify.StatusCorrect] == want.N {
					t.Errorf("%s: counts %v: the answers should be neither all right nor all wrong", sc.split, want.Counts)
				}
				for i := range got.Items {
					if g, w := got.Items[i], want.Items[i]; g.ID != w.ID || g.Status != w.Status || g.Reward != w.Reward {
						t.Errorf("%s item %s answer %q: run %s, Go %s", sc.split, w.ID, answers[w.ID], g.Status, w.Status)
					}
				}
			}
		})
	}
}

func readAnswers(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var tr trajectory.Trajectory
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatal(err)
		}
		if tr.Error != "" {
			t.Fatalf("item %s failed: %s", tr.Item, tr.Error)
		}
		out[tr.Item] = tr.Answer
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A SIA task folder as a SIA user writes one, not exported by sia: the
// reference agent under SIA's name (a Python harness, run sandboxed), its
// own evaluate.py at the task root writing SIA's results.json, no
// task.yaml, no train file (val is carved from the test items).
const siaStyleEvaluate = `import argparse, csv, json, pathlib
ap = argparse.ArgumentParser(); ap.add_argument("--gen-dir", type=pathlib.Path); a = ap.parse_args()
gold = {r["qid"]: r["answer"] for r in csv.DictReader(open(pathlib.Path(__file__).resolve().parent / "data" / "private" / "test.csv"))}
sub = {r["qid"]: r["answer"] for r in csv.DictReader(open(a.gen_dir / "submission.csv"))}
items = []
for q, g in gold.items():
    s = "MISSING" if q not in sub else ("CORRECT" if sub[q].strip() == g else "WRONG")
    items.append({"id": q, "status": s, "output": sub.get(q), "detail": s.lower()})
acc = sum(i["status"] == "CORRECT" for i in items) / len(items)
json.dump({"summary": {"accuracy": acc, "total": len(items)}, "items": items}, open(a.gen_dir / "results.json", "w"))
`

const siaStyleAgent = `import argparse, csv, os
ap = argparse.ArgumentParser(); ap.add_argument("--dataset_dir"); ap.add_argument("--working_dir"); a = ap.parse_args()
rows = list(csv.DictReader(open(os.path.join(a.dataset_dir, "test.csv"))))
assert all("answer" not in r for r in rows), "items carry no answers"
with open(os.path.join(a.working_dir, "submission.csv"), "w", newline="") as f:
    w = csv.writer(f); w.writerow(["qid", "answer"])
    for r in rows:
        w.writerow([r["qid"], str(int(r["x"]) * 2)])
`

func TestSIAStyleFolder(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	mode := "bwrap"
	if _, err := sandbox.New(t.Context(), sandbox.ModeBwrap); errors.Is(err, sandbox.ErrUnavailable) {
		t.Logf("bubblewrap unavailable (%v): --sandbox none", err)
		mode = "none"
	}
	root := t.TempDir()
	var test, gold strings.Builder
	test.WriteString("qid,x\n")
	gold.WriteString("qid,answer\n")
	want := 0
	for i := range 20 {
		fmt.Fprintf(&test, "q%02d,%d\n", i, i)
		ans := i * 2
		if i%4 == 0 {
			ans++ // the agent gets these wrong
		}
		fmt.Fprintf(&gold, "q%02d,%d\n", i, ans)
	}
	files := map[string]string{
		"_shared/sample_agent_execution.json":          `{"steps": [{"kind": "model_call"}]}`,
		"double/data/public/task.md":                   "Double x.\n",
		"double/data/public/test.csv":                  test.String(),
		"double/data/private/test.csv":                 gold.String(),
		"double/evaluate.py":                           siaStyleEvaluate,
		"double/reference/reference_target_agent.py":   siaStyleAgent,
		"double/reference/SAMPLE_TASK_DESCRIPTIONS.md": "Double a number.\n",
	}
	for rel, body := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "double")
	out, stderr, code := runCLI(t, nil, "tasks", "--task-dir", dir, "--json")
	if code != 0 || !strings.Contains(out, "20 % of the items of public/test.csv") || !strings.Contains(out, `"runtime": "python"`) {
		t.Fatalf("tasks --task-dir: exit %d %s\n%s", code, stderr, out)
	}
	runs := t.TempDir()
	_, stderr, code = runCLI(t, map[string]string{"SIA_CACHE_DIR": t.TempDir()}, "run", "--task-dir", dir, "--mode", "harness",
		"--max-gen", "1", "--runs-dir", runs, "--sandbox", mode)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	tk, err := task.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []struct{ split, file string }{{task.Val, "gen_1/results.json"}, {task.Test, "best/test_results.json"}} {
		right := 0
		for id, g := range d.Gold(sc.split) {
			var i int
			fmt.Sscanf(id, "q%d", &i)
			if fmt.Sprint(i*2) == g {
				right++
			}
		}
		want = right
		b, err := os.ReadFile(filepath.Join(runs, "run_1", sc.file))
		if err != nil {
			t.Fatal(err)
		}
		var res verify.Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		n := len(d.Gold(sc.split))
		if res.N != n || res.Counts[verify.StatusCorrect] != want || res.Score != float64(want)/float64(n) {
			t.Errorf("%s: %d items, counts %v, score %v; want %d items, %d correct", sc.split, res.N, res.Counts, res.Score, n, want)
		}
	}
}
