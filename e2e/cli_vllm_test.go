package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/internal/cli"
	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/vllm/vllmtest"
)

// TestMain lets this test binary stand in for an external trainer command:
// with SIA_E2E_FAKE_TRAINER set it writes a valid PEFT adapter into the
// folder given as its last argument, as a TRL or verl launch would.
func TestMain(m *testing.M) {
	cli.ServeWorkerIfAsked()
	if os.Getenv("SIA_E2E_FAKE_TRAINER") == "1" {
		out := os.Args[len(os.Args)-1]
		data, err := os.ReadFile(os.Args[len(os.Args)-2])
		if err != nil || !bytes.Contains(data, []byte("completion")) {
			fmt.Fprintln(os.Stderr, "fake trainer: no training data", err)
			os.Exit(2)
		}
		cfg := adapter.NewConfig("openai/gpt-oss-120b", 32, 64, []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
		if err := adapter.WriteLoRA(out, cfg, 2, 64, 64); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("fake trainer: wrote", out)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The harness asks the model and answers what it says; the fake vLLM
// server says which model served the call. The gold answer for a third of
// the items is the base's name (so the base's rewards differ: there is
// something to learn) and for the rest the first adapter's name. So only a
// weight update served through vLLM can raise the score.
const vllmHarness = `def solve(item):
    return model.chat("item " + item["id"]).text
`

func TestCLIRemoteWeightsLeverThroughVLLM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs sia for several generations against a fake vLLM; .ci/run runs it")
	}
	fake := vllmtest.New("openai/gpt-oss-120b")
	defer fake.Close()

	cfgDir := t.TempDir()
	prov := fmt.Sprintf(`{"provider_id": "vllm", "name": "fake vLLM", "client_kind": "openai", "base_url": %q, "api_key_env": "", "vllm": true}`, fake.URL+"/v1")
	write(t, filepath.Join(cfgDir, "profiles", "providers", "vllm.json"), prov)

	taskDir := t.TempDir()
	var train, test, gold strings.Builder
	train.WriteString("id,label\n")
	for i := range 16 {
		label := "served by policy-v0001"
		if i%3 == 0 {
			label = "served by openai/gpt-oss-120b"
		}
		fmt.Fprintf(&train, "t%02d,%s\n", i, label)
	}
	test.WriteString("id\n")
	gold.WriteString("id,label\n")
	for i := range 4 {
		fmt.Fprintf(&test, "q%d\n", i)
		fmt.Fprintf(&gold, "q%d,served by policy-v0001\n", i)
	}
	write(t, filepath.Join(taskDir, "task.yaml"), `name: served
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: 6, seed: 2}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`)
	write(t, filepath.Join(taskDir, "task.md"), "Answer what the model says.\n")
	write(t, filepath.Join(taskDir, "reference", "harness.star"), vllmHarness)
	write(t, filepath.Join(taskDir, "data", "public", "train.csv"), train.String())
	write(t, filepath.Join(taskDir, "data", "public", "test.csv"), test.String())
	write(t, filepath.Join(taskDir, "data", "private", "test.csv"), gold.String())

	runsDir := os.Getenv("SIA_E2E_KEEP")
	if runsDir == "" {
		runsDir = t.TempDir()
	}
	exe, _ := os.Executable()
	env := map[string]string{"SIA_CONFIG_DIR": cfgDir, "SIA_CACHE_DIR": t.TempDir(), "SIA_E2E_FAKE_TRAINER": "1"}
	var out, errb bytes.Buffer
	t.Setenv("SIA_E2E_FAKE_TRAINER", "1") // the trainer command inherits it
	code := cli.Main(context.Background(), []string{"run", "--task-dir", taskDir, "--runs-dir", runsDir, "--max-gen", "3",
		"--mode", "auto", "--target-profile", "vllm", "--trainer", "command", "--train-items", "8", "--train-samples", "2",
		"--trainer-command", exe + " -test.run=^$ {data} {out}"},
		cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("sia run exited %d:\n%s\n%s", code, errb.String(), out.String())
	}
	sum, err := report.Load(filepath.Join(runsDir, "run_1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Generations) != 3 {
		t.Fatalf("%d generations, want 3:\n%s", len(sum.Generations), errb.String())
	}
	weights := 0
	for _, g := range sum.Generations {
		if g.Action == "weights" {
			weights++
		}
	}
	if weights == 0 {
		t.Fatalf("no weight update:\n%s", out.String())
	}
	if sum.Generations[1].Score == nil || *sum.Generations[1].Score <= *sum.Generations[0].Score {
		t.Errorf("the first adapter did not raise val: %s", out.String())
	}
	// The server holds the newest adapter under a versioned name, and the
	// gateway's policy was switched to it: the rollouts were served by it.
	loaded := fake.Loaded()
	if len(loaded) == 0 || !strings.HasPrefix(loaded[len(loaded)-1], "policy-v") {
		t.Fatalf("adapters loaded on the server: %v", loaded)
	}
	b, err := os.ReadFile(filepath.Join(runsDir, "run_1", "gen_2", "rollouts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"completion":"served by policy-v0001"`)) || !bytes.Contains(b, []byte(`"completion_token_ids":[100,101,102]`)) {
		t.Errorf("gen 2 was not served by the new adapter with token ids:\n%.600s", b)
	}
	var dec struct{ Action, Algorithm string }
	db, _ := os.ReadFile(filepath.Join(runsDir, "run_1", "gen_2", "decision.json"))
	if err := json.Unmarshal(db, &dec); err != nil || dec.Action != "weights" || dec.Algorithm == "" {
		t.Errorf("gen_2/decision.json: %s (%v)", db, err)
	}
}

func write(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
