package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// A SIA-style target_agent.py: reads test.csv from --dataset_dir, asks the
// model through OPENAI_BASE_URL with the OpenAI chat wire format (urllib,
// so no package is needed), tags each call with X-SIA-Item, and writes
// submission.csv into --working_dir.
const targetAgent = `import argparse, csv, json, os, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--dataset_dir"); p.add_argument("--working_dir")
a = p.parse_args()
base, key = os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_KEY"]
sample = os.environ.get("SIA_SAMPLE", "0")
assert not os.path.exists(os.path.join(a.dataset_dir, "..", "private")), "private data must not be reachable"
assert not os.path.exists(PRIVATE), "the sandbox shows nothing of the task folder"
train = list(csv.DictReader(open(os.path.join(a.dataset_dir, "train.csv"))))
assert all("label" in r for r in train), "train split carries labels"
rows = list(csv.DictReader(open(os.path.join(a.dataset_dir, "test.csv"))))
assert all("label" not in r for r in rows), "items must not carry labels"
assert not {r["id"] for r in rows} & {r["id"] for r in train}, "no item being solved is in the train file"
out = []
for r in rows:
    body = json.dumps({"model": "policy", "messages": [{"role": "user", "content": "x=" + r["x"]}]}).encode()
    req = urllib.request.Request(base + "/chat/completions", data=body, headers={
        "Authorization": "Bearer " + key, "Content-Type": "application/json",
        "X-SIA-Item": "item=" + r["id"] + ";sample=" + sample})
    reply = json.load(urllib.request.urlopen(req))
    out.append((r["id"], reply["choices"][0]["message"]["content"].strip()))
with open(os.path.join(a.working_dir, "submission.csv"), "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "label"]); w.writerows(out)
`

func writePythonTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var train, test, gold strings.Builder
	train.WriteString("id,x,label\n")
	test.WriteString("id,x\n")
	gold.WriteString("id,label\n")
	for i := range 12 {
		train.WriteString("t" + strconv.Itoa(i) + "," + strconv.Itoa(i) + "," + strconv.Itoa(i+1) + "\n")
	}
	for i := range 4 {
		test.WriteString("q" + strconv.Itoa(i) + "," + strconv.Itoa(50+i) + "\n")
		gold.WriteString("q" + strconv.Itoa(i) + "," + strconv.Itoa(51+i) + "\n")
	}
	files := map[string]string{
		"task.yaml": `name: pyplus
runtime: python
submission: submission.csv
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: 5, seed: 1}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`,
		"task.md":                   "Answer x+1.\n",
		"reference/target_agent.py": fmt.Sprintf("PRIVATE = %q\n", filepath.Join(dir, "data", "private")) + targetAgent,
		"data/public/train.csv":     train.String(),
		"data/public/test.csv":      test.String(),
		"data/private/test.csv":     gold.String(),
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// plusOne answers x+1 with token ids and logprobs, like a vLLM server.
func plusOne(_ context.Context, req llm.Request) (*llm.Completion, error) {
	x := strings.TrimPrefix(req.Messages[len(req.Messages)-1].Content, "x=")
	n := 0
	for _, c := range x {
		n = n*10 + int(c-'0')
	}
	return &llm.Completion{Model: "fake-vllm", PromptTokenIDs: []int{7, 8, 9},
		Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: strconv.Itoa(n + 1)}, TokenIDs: []int{11, 12}, Logprobs: []float64{-0.1, -0.2}, FinishReason: "stop"}},
		Usage:   llm.Usage{PromptTokens: 3, CompletionTokens: 2}}, nil
}

func TestPythonHarnessThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs sandboxed python harnesses through the loop; .ci/run runs it")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the SIA python-harness contract cannot be tested (.ci/run installs it)")
	}
	ctx := t.Context()
	sb, err := sandbox.New(ctx, sandbox.ModeBwrap)
	if err != nil {
		t.Skipf("%v (.ci/run installs bubblewrap)", err)
	}
	tk, err := task.OpenDir(writePythonTask(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Config{Run: "py"})
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, err := gw.Serve(gctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run_py")
	cfg := loop.Config{RunID: "py", Task: "pyplus", MaxGen: 1, Mode: "harness", Seed: 1, Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	store, err := runstore.Create(runDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := loop.Run(ctx, cfg, loop.Deps{
		Task: tk, Data: data, Runtime: &python.Runtime{Sandbox: sb, Layout: python.Layout{Submission: tk.Spec.Submission, Parse: tk.ParseSubmission}}, Meta: builtin.Meta{}, Feedback: builtin.Feedback{}, Store: store,
		Policy:  func(context.Context, string, int) (llm.Model, error) { return llm.ModelFunc(plusOne), nil },
		Gateway: gw, GatewayURL: url,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Gens[0].Score != 1 || st.TestScore == nil || *st.TestScore != 1 {
		t.Fatalf("val %.2f test %v: the harness's answers did not come back", st.Gens[0].Score, st.TestScore)
	}
	f, err := os.Open(filepath.Join(runDir, "gen_1", "rollouts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	trajs, err := trajectory.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(trajs) != 5 {
		t.Fatalf("%d trajectories, want 5 val items", len(trajs))
	}
	for _, tr := range trajs {
		steps := tr.ModelSteps()
		if len(steps) != 1 {
			t.Fatalf("item %s has %d model steps, want its own 1", tr.Item, len(steps))
		}
		s := steps[0]
		var x string
		for _, e := range data.Items(task.Val) {
			if e.ID == tr.Item {
				x = e.Fields["x"].(string)
			}
		}
		if s.Messages[0].Content != "x="+x || len(s.CompletionTokenIDs) != 2 || len(s.PromptTokenIDs) != 3 {
			t.Errorf("item %s got step %+v", tr.Item, s)
		}
	}
	if calls, _ := gw.Untagged(); len(calls) != 0 {
		t.Errorf("%d untagged calls", len(calls))
	}
}
