package loop

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fakeRuntime loads "harnesses" whose code is a JSON object of knob
// candidates. The answer to item {x} is x*mult+offset, and when the harness
// declares "use_model" the model's reply is added (so adapters matter).
type fakeRuntime struct{}

type fakeHarness struct {
	settings map[string]any
	decl     harness.Decl
	model    llm.Model
	delay    time.Duration
}

func (fakeRuntime) Inspect(src harness.Source) (harness.Decl, error) {
	var knobs map[string][]any
	if err := json.Unmarshal(src.Code, &knobs); err != nil {
		return harness.Decl{}, err
	}
	d := harness.Decl{Knobs: knobs, Settings: map[string]any{}}
	for k := range knobs {
		d.Order = append(d.Order, k)
	}
	sortStrings(d.Order)
	for k, v := range knobs {
		d.Settings[k] = v[0]
	}
	for k, v := range src.Knobs {
		d.Settings[k] = v
	}
	return d, nil
}

func (r fakeRuntime) Load(_ context.Context, src harness.Source, env harness.Env) (harness.Harness, error) {
	d, err := r.Inspect(src)
	if err != nil {
		return nil, err
	}
	delay := time.Duration(0)
	if s := os.Getenv("SIA_FAKE_DELAY"); s != "" {
		delay, _ = time.ParseDuration(s)
	}
	return &fakeHarness{settings: d.Settings, decl: d, model: env.Model, delay: delay}, nil
}

func num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int64:
		return int(x)
	case int:
		return x
	}
	return 0
}

func (h *fakeHarness) Solve(ctx context.Context, item task.Item, s harness.Sample) (string, error) {
	if h.delay > 0 {
		select {
		case <-time.After(h.delay):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	x, _ := strconv.Atoi(item.Fields["x"].(string))
	ans := x*num(h.settings["mult"]) + num(h.settings["offset"])
	if _, ok := h.settings["use_model"]; ok && h.model != nil {
		seed := s.Seed
		c, err := h.model.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: "user", Content: item.ID}}, Seed: &seed})
		if err != nil {
			return "", err
		}
		s.Rec.AddCompletion(llm.Request{}, c)
		add, _ := strconv.Atoi(c.Text())
		ans += add
	}
	s.Rec.Log(fmt.Sprintf("x=%d", x))
	s.Rec.Log(fmt.Sprintf("seed=%d", s.Seed))
	return strconv.Itoa(ans), nil
}

func (h *fakeHarness) Decl() harness.Decl { return h.decl }
func (h *fakeHarness) Close() error       { return nil }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// fakePolicy answers "0" or "1" by seed: "1" (the +1 the labels need) on
// a quarter of the seeds on the base and on two thirds once an adapter is
// trained, so weight updates raise the reward (and the base's rewards
// differ, so there is something to learn from).
func fakePolicy(_ context.Context, dir string, version int) (llm.Model, error) {
	return llm.ModelFunc(func(_ context.Context, req llm.Request) (*llm.Completion, error) {
		reply := "0"
		if req.Seed != nil && ((version == 0 && *req.Seed%4 == 0) || (version > 0 && *req.Seed%3 != 0)) {
			reply = "1"
		}
		return &llm.Completion{Model: "fake", AdapterVersion: version, PromptTokenIDs: []int{1, 2},
			Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: reply}, TokenIDs: []int{48}, Logprobs: []float64{-0.5}}},
			Usage:   llm.Usage{PromptTokens: 2, CompletionTokens: 1}}, nil
	}), nil
}

// fakeTrainer writes a marker adapter.
type fakeTrainer struct{}

func (fakeTrainer) Train(_ context.Context, req train.Request) (*train.Result, error) {
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return nil, err
	}
	b := fmt.Sprintf(`{"algorithm":%q,"version":%d,"samples":%d,"parent":%q}`, req.Algorithm, req.Version, len(req.Rollouts), filepath.Base(filepath.Dir(req.Parent)))
	if err := os.WriteFile(filepath.Join(req.OutDir, "adapter_config.json"), []byte(b), 0o644); err != nil {
		return nil, err
	}
	return &train.Result{Version: req.Version, AdapterDir: req.OutDir}, nil
}

// writeTask lays out a small task folder: items {id, x}, label 2x+1.
func writeTask(t *testing.T, code string) string { return writeTaskB(t, code) }

func writeTaskB(t testing.TB, code string) string { return writeTaskN(t, code, 12) }

// writeTaskN is writeTask with val items carved from the train rows (40,
// or val + 40 for other val sizes).
func writeTaskN(t testing.TB, code string, val int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"task.yaml": fmt.Sprintf(`name: fake
metric: accuracy
verifier: exact
answer: an integer
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: %d, seed: 3}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`, val),
		"task.md":                "Double x and add one.\n",
		"reference/harness.star": code,
	}
	var train, test, gold strings.Builder
	train.WriteString("id,x,label\n")
	test.WriteString("id,x\n")
	gold.WriteString("id,label\n")
	rows := 40 // the golden runs' data
	if val != 12 {
		rows = val + 40
	}
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&train, "t%02d,%d,%d\n", i, i, 2*i+1)
	}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&test, "q%02d,%d\n", i, 100+i)
		fmt.Fprintf(&gold, "q%02d,%d\n", i, 2*(100+i)+1)
	}
	files["data/public/train.csv"] = train.String()
	files["data/public/test.csv"] = test.String()
	files["data/private/test.csv"] = gold.String()
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

const knobCode = `{"mult": [1, 3, 2], "offset": [1, 5, 0]}`
const modelCode = `{"mult": [2], "offset": [0, 5], "use_model": [true]}`

// runLoop runs (or resumes) the loop in runDir.
func runLoop(ctx context.Context, taskDir, runDir, mode string, maxGen int, resume bool, withTrainer bool) (runstore.State, error) {
	return runLoopExt(ctx, taskDir, runDir, mode, maxGen, resume, false, withTrainer)
}

// runLoopExt is runLoop that can also extend the run to maxGen on resume.
func runLoopExt(ctx context.Context, taskDir, runDir, mode string, maxGen int, resume, extend bool, withTrainer bool) (runstore.State, error) {
	cfg := Config{RunID: "t", Task: "fake", MaxGen: maxGen, Mode: mode, Seed: 7, Parallel: 3, Samples: 2,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true}
	if os.Getenv("SIA_LOOP_SELECTION") == "1" {
		cfg = withSelection(cfg)
	}
	return runLoopCfg(ctx, taskDir, runDir, cfg, resume, extend, withTrainer, nil, nil)
}

// withSelection turns on every selection feature: the paired test, a
// confirmation slice, ranked candidates and the bandit.
func withSelection(cfg Config) Config {
	cfg.Accept, cfg.ConfirmFrac, cfg.Candidates, cfg.LeverChoice = "0.05", 0.25, 3, agent.LeverBandit
	return cfg
}

// runLoopCfg runs (or resumes) the loop with cfg; wrap, when set, wraps
// the builtin Feedback-Agent.
func runLoopCfg(ctx context.Context, taskDir, runDir string, cfg Config, resume, extend, withTrainer bool,
	wrap func(agent.Feedback) agent.Feedback, policy PolicyFactory) (runstore.State, error) {
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		return runstore.State{}, err
	}
	data, err := tk.Load(ctx)
	if err != nil {
		return runstore.State{}, err
	}
	cfg = cfg.WithDefaults()
	var (
		store  *runstore.Store
		events []runstore.Event
	)
	if resume {
		store, events, err = runstore.Open(runDir)
		if err == nil && extend {
			events, err = Extend(store, events, cfg.MaxGen)
		}
	} else {
		store, err = runstore.Create(runDir, cfg)
	}
	if err != nil {
		return runstore.State{}, err
	}
	defer store.Close()
	var fb agent.Feedback = builtin.Feedback{}
	if wrap != nil {
		fb = wrap(fb)
	}
	deps := Deps{Task: tk, Data: data, Runtime: fakeRuntime{}, Meta: builtin.Meta{}, Feedback: fb, Store: store}
	if withTrainer {
		deps.Trainer, deps.Policy = fakeTrainer{}, fakePolicy
		if policy != nil {
			deps.Policy = policy
		}
	}
	return Run(ctx, cfg, deps, events)
}

// canonical renders a run's summary without timings, for comparisons.
func canonical(t *testing.T, runDir string) string {
	t.Helper()
	s, err := report.Load(runDir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Generations {
		s.Generations[i].DurationS = 0
	}
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestLoopHarnessModeGolden(t *testing.T) {
	taskDir := writeTask(t, knobCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	st, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 5, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Finished || st.TestScore == nil {
		t.Fatalf("run did not finish with a test score: %+v", st)
	}
	// The knob search must find mult=2 (offset 1 is needed too, so the
	// score only reaches 1 once both knobs are right).
	if st.BestScore <= st.Gens[0].Score {
		t.Errorf("search did not improve: gen1 %.3f best %.3f", st.Gens[0].Score, st.BestScore)
	}
	got := canonical(t, runDir)
	golden := filepath.Join("testdata", "harness_mode.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./loop -update)", err)
	}
	if got != string(want) {
		t.Errorf("summary changed:\n%s\nwant:\n%s", got, want)
	}
	for _, f := range []string{"run.json", "events.jsonl", "context.md", "gen_1/harness.star", "gen_1/decision.json",
		"gen_1/rollouts.jsonl", "gen_1/results.json", "gen_2/improvement.md", "gen_2/knobs.json", "best/best.json",
		"best/test_results.json"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestExtendEqualsALongerRun runs 2 generations, extends the finished run to
// 6, and checks the result is the run that asked for 6 from the start.
func TestExtendEqualsALongerRun(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		code    string
		trainer bool
	}{
		{agent.ModeHarness, knobCode, false},
		{agent.ModeAuto, modelCode, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			taskDir := writeTask(t, tc.code)
			long := filepath.Join(t.TempDir(), "run_t")
			if _, err := runLoop(t.Context(), taskDir, long, tc.mode, 6, false, tc.trainer); err != nil {
				t.Fatal(err)
			}
			short := filepath.Join(t.TempDir(), "run_t")
			st, err := runLoop(t.Context(), taskDir, short, tc.mode, 2, false, tc.trainer)
			if err != nil || !st.Finished || len(st.Gens) != 2 {
				t.Fatalf("short run: %v, %d gens, finished %v", err, len(st.Gens), st.Finished)
			}
			st, err = runLoopExt(t.Context(), taskDir, short, tc.mode, 6, true, true, tc.trainer)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Finished || st.TestScore == nil || len(st.Gens) <= 2 {
				t.Fatalf("extended run did not go on and finish with a test score: %d gens, %+v", len(st.Gens), st)
			}
			if got, want := canonical(t, short), canonical(t, long); got != want {
				t.Errorf("extended run:\n%s\nwant the longer run:\n%s", got, want)
			}
			if _, err := runLoopExt(t.Context(), taskDir, short, tc.mode, len(st.Gens), true, true, tc.trainer); err == nil {
				t.Error("extending to the generations the run already has was accepted")
			}
		})
	}
}

func TestLoopNoGoldInRunFolder(t *testing.T) {
	taskDir := writeTask(t, knobCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 3, false, false); err != nil {
		t.Fatal(err)
	}
	// Test labels are 201..219: none may appear in any file except as
	// an answer the harness itself produced (test_rollouts/test_results
	// carry the harness's outputs, which are wrong here by design).
	err := filepath.WalkDir(runDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(`"label"`)) || bytes.Contains(b, []byte("gold")) {
			t.Errorf("%s mentions labels or gold", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoopAutoTakesWeightsLever(t *testing.T) {
	taskDir := writeTask(t, modelCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	st, err := runLoop(t.Context(), taskDir, runDir, agent.ModeAuto, 5, false, true)
	if err != nil {
		t.Fatal(err)
	}
	var weights int
	for _, g := range st.Gens {
		if g.Action == agent.ActionWeights {
			weights++
			if g.AdapterVersion == 0 || g.Algorithm == "" {
				t.Errorf("weights gen %d has no adapter/algorithm: %+v", g.Gen, g)
			}
			if _, err := rl.ParseAlgorithm(string(g.Algorithm)); err != nil {
				t.Error(err)
			}
		}
	}
	if weights == 0 {
		t.Fatalf("auto mode never took the weights lever: %+v", st.Gens)
	}
	if st.BestScore <= st.Gens[0].Score {
		t.Errorf("weights did not help: gen1 %.3f best %.3f", st.Gens[0].Score, st.BestScore)
	}
}

// TestEvalRolloutsShareSeeds checks the loop's common random numbers: every
// generation's val rollouts, harness or weights, draw the same sample
// seeds; each train round draws fresh ones.
func TestEvalRolloutsShareSeeds(t *testing.T) {
	taskDir := writeTask(t, modelCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	st, err := runLoop(t.Context(), taskDir, runDir, agent.ModeAuto, 4, false, true)
	if err != nil {
		t.Fatal(err)
	}
	seeds := func(rel string) map[string]string {
		f, err := os.Open(filepath.Join(runDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ts, err := trajectory.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, tr := range ts {
			for _, s := range tr.Steps {
				if strings.HasPrefix(s.Text, "seed=") {
					out[fmt.Sprintf("%s/%d", tr.Item, tr.Sample)] = s.Text
				}
			}
		}
		if len(out) == 0 {
			t.Fatalf("%s: no seeds logged", rel)
		}
		return out
	}
	first := seeds(filepath.Join("gen_1", "rollouts.jsonl"))
	var weights int
	for _, g := range st.Gens[1:] {
		if g.Action == agent.ActionWeights {
			weights++
		}
		if got := seeds(filepath.Join(fmt.Sprintf("gen_%d", g.Gen), "rollouts.jsonl")); !maps.Equal(got, first) {
			t.Errorf("gen %d (%s) val rollouts drew other seeds than gen 1", g.Gen, g.Action)
		}
	}
	if weights == 0 {
		t.Fatalf("no weights generation to compare: %+v", st.Gens)
	}
	trainFiles, _ := filepath.Glob(filepath.Join(runDir, "gen_*", "train_rollouts*.jsonl"))
	if len(trainFiles) < 2 {
		t.Fatalf("want train rollouts of at least two rounds, found %v", trainFiles)
	}
	a, _ := filepath.Rel(runDir, trainFiles[0])
	b, _ := filepath.Rel(runDir, trainFiles[1])
	if maps.Equal(seeds(a), seeds(b)) {
		t.Errorf("%s and %s drew the same seeds: train rounds must sample afresh", a, b)
	}
}

func TestLoopWeightsModeNeedsTrainer(t *testing.T) {
	taskDir := writeTask(t, modelCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	_, err := runLoop(t.Context(), taskDir, runDir, agent.ModeWeights, 3, false, false)
	if err == nil || !strings.Contains(err.Error(), "trainer") {
		t.Fatalf("want a trainer error, got %v", err)
	}
}

func TestLoopRefusesExistingRun(t *testing.T) {
	taskDir := writeTask(t, knobCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 1, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeHarness, 1, false, false); err == nil {
		t.Fatal("second run into the same folder was not refused")
	}
}

// TestMain lets the test binary act as a child `sia run` for the kill test.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SIA_LOOP_CHILD_RUN"); dir != "" {
		resume := os.Getenv("SIA_LOOP_CHILD_RESUME") == "1"
		_, err := runLoop(context.Background(), os.Getenv("SIA_LOOP_CHILD_TASK"), dir, os.Getenv("SIA_LOOP_CHILD_MODE"), 5, resume, true)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, variant := range []string{"auto", "auto+selection"} {
		mode := agent.ModeAuto
		// The second variant runs every selection feature: the paired
		// test, the confirmation slice, ranked candidates, the bandit.
		sel := "0"
		if variant == "auto+selection" {
			sel = "1"
		}
		t.Setenv("SIA_LOOP_SELECTION", sel)
		taskDir := writeTask(t, modelCode)
		refDir := filepath.Join(t.TempDir(), "ref")
		if _, err := runLoop(t.Context(), taskDir, refDir, mode, 5, false, true); err != nil {
			t.Fatal(err)
		}
		want := canonical(t, refDir)
		refEvents, _ := runstore.ReadEvents(refDir)
		for _, killAt := range []int{1, 3, 5, 8, 11, len(refEvents) - 2} {
			t.Run(fmt.Sprintf("%s/after_%d_events", variant, killAt), func(t *testing.T) {
				runDir := filepath.Join(t.TempDir(), "run")
				child := func(resume bool) *exec.Cmd {
					cmd := exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), "SIA_LOOP_CHILD_RUN="+runDir, "SIA_LOOP_CHILD_TASK="+taskDir,
						"SIA_LOOP_CHILD_MODE="+mode, "SIA_FAKE_DELAY=3ms")
					if resume {
						cmd.Env = append(cmd.Env, "SIA_LOOP_CHILD_RESUME=1")
					}
					return cmd
				}
				cmd := child(false)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					evs, _ := runstore.ReadEvents(runDir)
					if len(evs) >= killAt {
						break
					}
					time.Sleep(time.Millisecond)
				}
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()
				if evs, _ := runstore.ReadEvents(runDir); len(evs) >= len(refEvents) {
					t.Fatalf("the child finished before the kill (%d events); the kill point tests nothing", len(evs))
				}
				if out, err := child(true).CombinedOutput(); err != nil {
					t.Fatalf("resume: %v\n%s", err, out)
				}
				if got := canonical(t, runDir); got != want {
					t.Errorf("resumed run differs:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}

func TestResumeRetrainsDeletedAdapter(t *testing.T) {
	taskDir := writeTask(t, modelCode)
	runDir := filepath.Join(t.TempDir(), "run_t")
	st, err := runLoop(t.Context(), taskDir, runDir, agent.ModeAuto, 5, false, true)
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for _, g := range st.Gens {
		if g.Action == agent.ActionWeights {
			dir = filepath.Join(runDir, g.AdapterDir)
			break
		}
	}
	if dir == "" {
		t.Fatal("no weight update to delete")
	}
	want, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	before := canonical(t, runDir)
	if _, err := runLoop(t.Context(), taskDir, runDir, agent.ModeAuto, 5, true, true); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	if err != nil {
		t.Fatalf("adapter not retrained: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("retrained adapter differs:\n%s\nwant:\n%s", got, want)
	}
	if after := canonical(t, runDir); after != before {
		t.Errorf("resume changed the finished run's summary")
	}
}
