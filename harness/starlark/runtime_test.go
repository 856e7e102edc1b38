package starlark

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

func src(code string, knobs map[string]any) harness.Source {
	return harness.Source{Name: "harness.star", Code: []byte(code), Knobs: knobs}
}

func item(id string, fields map[string]any) task.Item { return task.Item{ID: id, Fields: fields} }

// load loads code with a small env and fails the test on error.
func load(t *testing.T, rt *Runtime, code string, knobs map[string]any, env harness.Env) *Harness {
	t.Helper()
	h, err := rt.LoadHarness(t.Context(), src(code, knobs), env)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return h
}

func solve(t *testing.T, h *Harness, it task.Item) (string, *trajectory.Recorder, error) {
	t.Helper()
	rec := trajectory.NewRecorder()
	ans, err := h.Solve(t.Context(), it, harness.Sample{Seed: 42, Rec: rec})
	return ans, rec, err
}

func TestSolveAnswers(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"string", `return "x" + item["q"]`, "xhi"},
		{"id field", `return item["id"]`, "it1"},
		{"no label", `return str("label" in item)`, "False"},
		{"bool", `return True`, "True"},
		{"int", `return 7`, "7"},
		{"float", `return 2.5`, "2.5"},
		{"integral float", `return 3.0`, "3.0"},
		{"json number field", `return type(item["n"])`, "float"},
	}
	rt := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := load(t, rt, "def solve(item):\n    "+tc.body+"\n", nil, harness.Env{})
			got, _, err := solve(t, h, item("it1", map[string]any{"q": "hi", "n": 1.0}))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("answer %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSolveErrors(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"none", "def solve(item):\n    pass\n", "returned None"},
		{"list", "def solve(item):\n    return [1]\n", "returned a list"},
		{"fail", "def solve(item):\n    fail(\"boom\")\n", "boom"},
		{"mutate frozen global", "SEEN = []\ndef solve(item):\n    SEEN.append(1)\n    return 'x'\n", "frozen"},
		{"no file access", "def solve(item):\n    return open('/etc/passwd')\n", "undefined: open"},
	}
	rt := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := rt.LoadHarness(t.Context(), src(tc.code, nil), harness.Env{})
			if err == nil {
				_, rec, serr := solve(t, h, item("a", nil))
				err = serr
				if err != nil && len(rec.Steps()) == 0 {
					t.Error("error not recorded as a step")
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, code string
		knobs      map[string]any
		want       string
	}{
		{"no solve", "x = 1\n", nil, "must define solve"},
		{"solve arity", "def solve(a, b, c):\n    return 1\n", nil, "solve takes 3"},
		{"syntax", "def solve(item)\n", nil, "compile"},
		{"knobs not dict", "KNOBS = [1]\ndef solve(item):\n    return 1\n", nil, "KNOBS must be a dict"},
		{"knob no candidates", "KNOBS = {'a': []}\ndef solve(item):\n    return 1\n", nil, "no candidate"},
		{"undeclared knob", "KNOBS = {'a': [1]}\ndef solve(item):\n    return 1\n", map[string]any{"b": 1.0}, `knob "b" is set but not declared`},
		{"bad knob value", "KNOBS = {'a': [1, 2]}\ndef solve(item):\n    return 1\n", map[string]any{"a": 3.0}, "not one of its KNOBS candidates"},
		{"knobs without KNOBS", "def solve(item):\n    return 1\n", map[string]any{"a": 1.0}, "declares no KNOBS"},
		{"knobs at top level", "KNOBS = {'a': [1]}\nX = knobs['a']\ndef solve(item):\n    return 1\n", nil, "inside setup() or solve()"},
		{"setup fails", "def setup(ctx):\n    fail('bad setup')\ndef solve(item):\n    return 1\n", nil, "bad setup"},
		{"recursion", "def f(n):\n    return f(n)\ndef setup(ctx):\n    f(1)\ndef solve(item):\n    return 1\n", nil, "called recursively"},
		{"load", "load('x.star', 'y')\ndef solve(item):\n    return 1\n", nil, "load"},
	}
	rt := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rt.Load(t.Context(), src(tc.code, tc.knobs), harness.Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

const knobsHarness = `
KNOBS = {"style": ["short", "long"], "k": [1, 3, 5], "t": [0.0, 0.7]}

def setup(ctx):
    return {"n": len(ctx.train), "labels": sorted([r["label"] for r in ctx.train]),
            "doc": ctx.task_doc, "seed": ctx.seed, "k": ctx.knobs["k"]}

def solve(item, state):
    return "%s|%d|%s|%s|%s|%d|%s" % (knobs["style"], knobs["k"], state["n"], ",".join(state["labels"]),
                                     state["doc"], state["seed"], knobs.get("missing", "dflt"))
`

func TestKnobsAndSetup(t *testing.T) {
	env := harness.Env{
		TaskDoc: "doc",
		Seed:    9,
		Train: []task.Example{
			{Item: item("t1", map[string]any{"x": "1"}), Label: "b"},
			{Item: item("t2", map[string]any{"x": "2"}), Label: "a"},
		},
	}
	rt := New(Config{})
	tests := []struct {
		knobs map[string]any
		want  string
		decl  map[string]any
	}{
		{nil, "short|1|2|a,b|doc|9|dflt", map[string]any{"style": "short", "k": int64(1), "t": 0.0}},
		{map[string]any{"k": 5.0, "style": "long"}, "long|5|2|a,b|doc|9|dflt", map[string]any{"style": "long", "k": int64(5), "t": 0.0}},
		{map[string]any{"t": 0.7}, "short|1|2|a,b|doc|9|dflt", map[string]any{"style": "short", "k": int64(1), "t": 0.7}},
	}
	for _, tc := range tests {
		h := load(t, rt, knobsHarness, tc.knobs, env)
		got, _, err := solve(t, h, item("x", nil))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("knobs %v: answer %q, want %q", tc.knobs, got, tc.want)
		}
		d := h.Decl()
		if fmt.Sprint(d.Settings) != fmt.Sprint(tc.decl) {
			t.Errorf("knobs %v: settings %v, want %v", tc.knobs, d.Settings, tc.decl)
		}
		if strings.Join(d.Order, ",") != "style,k,t" {
			t.Errorf("order %v, want declaration order", d.Order)
		}
	}
}

func TestInspectDoesNotRunSetup(t *testing.T) {
	code := "KNOBS = {'model': ['svm', 'knn'], 'C': [1.0, 10.0]}\ndef setup(ctx):\n    fail('setup ran')\ndef solve(item):\n    return 1\n"
	d, err := New(Config{}).Inspect(src(code, map[string]any{"C": 10.0}))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d.Knobs) != "map[C:[1 10] model:[svm knn]]" || d.Settings["C"] != 10.0 || d.Settings["model"] != "svm" {
		t.Errorf("decl %+v", d)
	}
}

func TestModelChat(t *testing.T) {
	fake := llmtest.New("fake", func(call int, req llm.Request) (*llm.Completion, error) {
		c := &llm.Completion{Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 2}}
		for i := range max(req.N, 1) {
			c.Choices = append(c.Choices, llm.Choice{Message: llm.Message{Role: llm.RoleAssistant,
				Content: fmt.Sprintf("r%d.%d:%s", call, i, req.Messages[len(req.Messages)-1].Content)}, FinishReason: "stop"})
		}
		return c, nil
	})
	code := `
def solve(item):
    a = model.chat("hello", temperature=0.5, max_tokens=7, stop="\n")
    b = model.chat([{"role": "user", "content": "x"}], n=3, system="sys", top_p=0.9, stop=["a", "b"])
    log("got", a.text, len(b.texts))
    return a.text + "|" + ",".join(b.texts) + "|" + b.finish + "|" + str(a.usage.prompt_tokens)
`
	h := load(t, New(Config{}), code, nil, harness.Env{Model: fake})
	got, rec, err := solve(t, h, item("i", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := "r0.0:hello|r1.0:x,r1.1:x,r1.2:x|stop|3"; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	calls := fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	c0, c1 := calls[0], calls[1]
	if *c0.Temperature != 0.5 || c0.MaxTokens != 7 || c0.Stop[0] != "\n" || c0.Messages[0].Role != llm.RoleUser {
		t.Errorf("call 0 request %+v", c0)
	}
	if c1.N != 3 || *c1.TopP != 0.9 || len(c1.Stop) != 2 || c1.Messages[0].Role != llm.RoleSystem || c1.Messages[0].Content != "sys" {
		t.Errorf("call 1 request %+v", c1)
	}
	if c0.Seed == nil || c1.Seed == nil || *c0.Seed == *c1.Seed {
		t.Errorf("per-call seeds must be set and differ: %v %v", c0.Seed, c1.Seed)
	}
	// The same sample seed gives the same call seeds on a rerun.
	if _, _, err := solve(t, h, item("i", nil)); err != nil {
		t.Fatal(err)
	}
	again := fake.Calls()
	if *again[2].Seed != *c0.Seed || *again[3].Seed != *c1.Seed {
		t.Error("rerun with the same sample seed sampled with other seeds")
	}
	var models, logs int
	for _, s := range rec.Steps() {
		switch s.Kind {
		case trajectory.KindModel:
			models++
		case trajectory.KindLog:
			logs++
			if s.Text != "got r0.0:hello 3" {
				t.Errorf("log text %q", s.Text)
			}
		}
	}
	if models != 4 || logs != 1 {
		t.Errorf("recorded %d model steps and %d logs, want 4 (1+3 choices) and 1", models, logs)
	}
}

func TestModelChatErrors(t *testing.T) {
	rt := New(Config{})
	h := load(t, rt, "def solve(item):\n    return model.chat('hi').text\n", nil, harness.Env{})
	_, _, err := solve(t, h, item("i", nil))
	if !errors.Is(err, llm.ErrNoModel) {
		t.Errorf("no model: err %v, want it to wrap llm.ErrNoModel", err)
	}
	fake := llmtest.Script("ok")
	bad := []struct{ call, want string }{
		{`model.chat([{"role": "robot", "content": "x"}])`, "role"},
		{`model.chat([{"content": "x"}])`, "no \"role\""},
		{`model.chat([])`, "empty"},
		{`model.chat(3)`, "messages must be"},
		{`model.chat("x", n=0)`, "n=0"},
		{`model.chat("x", temperature="hot")`, "temperature"},
	}
	for _, tc := range bad {
		h := load(t, rt, "def solve(item):\n    return "+tc.call+".text\n", nil, harness.Env{Model: fake})
		if _, _, err := solve(t, h, item("i", nil)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.call, err, tc.want)
		}
	}
}

// settle waits briefly for goroutines started by the test to exit.
func settle(before int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > before; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func TestLimitsStopRunawayHarnesses(t *testing.T) {
	blocking := llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		<-ctx.Done() // a model call that never answers
		return nil, ctx.Err()
	})
	tests := []struct {
		name string
		cfg  Config
		code string
		want error
	}{
		{"infinite loop hits the step limit", Config{SolveSteps: 100_000, SolveTimeout: time.Minute},
			"def solve(item):\n    while True:\n        pass\n", ErrStepLimit},
		{"infinite loop hits the wall clock", Config{SolveSteps: 1 << 62, SolveTimeout: 200 * time.Millisecond},
			"def solve(item):\n    x = 0\n    while True:\n        x += 1\n", context.DeadlineExceeded},
		{"hung model call hits the wall clock", Config{SolveTimeout: 200 * time.Millisecond},
			"def solve(item):\n    return model.chat('x').text\n", context.DeadlineExceeded},
		{"long ML fit hits the wall clock", Config{SolveTimeout: 300 * time.Millisecond},
			"def solve(item):\n    X = [[float(i % 7), float(i % 11)] for i in range(20000)]\n    y = [str(i % 3) for i in range(20000)]\n    m = ml.gbt(X, y, n_estimators=100000, max_depth=8)\n    return 'done'\n",
			context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			h := load(t, New(tc.cfg), tc.code, nil, harness.Env{Model: blocking})
			start := time.Now()
			_, _, err := solve(t, h, item("i", nil))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("stopping took %v", d)
			}
			if after := settle(before); after > before {
				t.Errorf("goroutines: %d before, %d after", before, after)
			}
		})
	}
	t.Run("caller cancel stops solve", func(t *testing.T) {
		h := load(t, New(Config{SolveSteps: 1 << 62}), "def solve(item):\n    while True:\n        pass\n", nil, harness.Env{})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := h.Solve(ctx, item("i", nil), harness.Sample{Rec: trajectory.NewRecorder()})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want deadline exceeded", err)
		}
	})
	t.Run("setup has its own limit", func(t *testing.T) {
		rt := New(Config{SetupSteps: 100_000})
		_, err := rt.Load(t.Context(), src("def setup(ctx):\n    while True:\n        pass\ndef solve(item):\n    return 1\n", nil), harness.Env{})
		if !errors.Is(err, ErrStepLimit) {
			t.Errorf("err = %v, want step limit", err)
		}
	})
}

func TestConcurrentSolve(t *testing.T) {
	code := `
KNOBS = {"k": [3]}
def setup(ctx):
    texts = [r["text"] for r in ctx.train]
    labels = [r["label"] for r in ctx.train]
    return {"clf": ml.text_classifier(texts, labels, analyzer="word", ngram=1), "table": {"a": 1}}

def solve(item, state):
    return state["clf"].predict(item["text"])
`
	var train []task.Example
	for i := range 60 {
		lab := []string{"fruit", "tool"}[i%2]
		txt := map[string]string{"fruit": "apple banana pear", "tool": "hammer saw drill"}[lab]
		train = append(train, task.Example{Item: item(fmt.Sprint(i), map[string]any{"text": txt}), Label: lab})
	}
	h := load(t, New(Config{}), code, nil, harness.Env{Train: train})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			text, want := "I ate an apple", "fruit"
			if i%2 == 1 {
				text, want = "a drill and a saw", "tool"
			}
			got, err := h.Solve(t.Context(), item(fmt.Sprint(i), map[string]any{"text": text}), harness.Sample{Seed: int64(i), Rec: trajectory.NewRecorder()})
			if err == nil && got != want {
				err = fmt.Errorf("item %d: %q, want %q", i, got, want)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSetupLogsAndData(t *testing.T) {
	var lines []string
	rt := New(Config{OnSetupLog: func(s string) { lines = append(lines, s) }})
	pub := fstest.MapFS{"notes.txt": {Data: []byte("hello")}}
	code := "def setup(ctx):\n    log('files', data.list())\n    print('p')\n    return data.read('notes.txt')\ndef solve(item, s):\n    return s\n"
	h := load(t, rt, code, nil, harness.Env{Public: pub})
	got, _, err := solve(t, h, item("i", nil))
	if err != nil || got != "hello" {
		t.Errorf("answer %q, %v", got, err)
	}
	if strings.Join(lines, ";") != `files ["notes.txt"];p` {
		t.Errorf("setup log lines %q", lines)
	}
}

// TestChatResponseLogprobs checks that a harness can rank completions by
// the sampling logprobs the call recorded: per completion, the sum and the
// per-token list; None and [] when the backend returned none.
func TestChatResponseLogprobs(t *testing.T) {
	m := llmtest.New("m", func(_ int, req llm.Request) (*llm.Completion, error) {
		if !req.Logprobs {
			t.Error("model.chat did not ask for logprobs")
		}
		return &llm.Completion{Choices: []llm.Choice{
			{Message: llm.Message{Content: "A"}, TokenIDs: []int{1, 2}, Logprobs: []float64{-0.5, -0.25}},
			{Message: llm.Message{Content: "B"}, TokenIDs: []int{3}, Logprobs: []float64{-2}},
			{Message: llm.Message{Content: "C"}},
		}}, nil
	})
	code := `
def solve(item):
    r = model.chat("q", n=3)
    best = sorted([(r.logprobs[i], r.texts[i]) for i in range(2)])[-1][1]
    return "%s|%.2f|%s|%s|%s" % (best, r.logprob, r.token_logprobs[0], r.logprobs[2], r.token_logprobs[2])
`
	h := load(t, New(Config{}), code, nil, harness.Env{Model: m})
	got, _, err := solve(t, h, item("i", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := "A|-0.75|[-0.5, -0.25]|None|[]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEnvSetupLogTakesLoadLines checks that one load's setup lines reach
// that load's Env.SetupLog (so a measurement can show them), not the
// runtime-wide OnSetupLog.
func TestEnvSetupLogTakesLoadLines(t *testing.T) {
	var global, mine []string
	rt := New(Config{OnSetupLog: func(s string) { global = append(global, s) }})
	code := "log('top')\ndef setup(ctx):\n    log('fit on', len(ctx.train))\n    return None\ndef solve(item):\n    log('solving')\n    return 'x'\n"
	h := load(t, rt, code, nil, harness.Env{SetupLog: func(s string) { mine = append(mine, s) }})
	_, rec, err := solve(t, h, item("i", nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(mine, ";") != "top;fit on 0" || len(global) != 0 {
		t.Errorf("env lines %q, runtime lines %q", mine, global)
	}
	if st := rec.Steps(); len(st) != 1 || st[0].Text != "solving" {
		t.Errorf("solve steps %+v", st)
	}
}
