package isolate

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// The test binary doubles as the worker, as the sia binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WorkerArg {
		err := Serve(context.Background(), os.Stdin, os.Stdout, func(log func(string)) Inner {
			return starlark.New(starlark.Config{OnSetupLog: log})
		})
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testRuntime(mem int64) *Runtime {
	return &Runtime{Command: []string{os.Args[0], WorkerArg}, Memory: mem}
}

// echo answers "<prompt> ok" with token ids, as a task model would.
func echo(_ context.Context, req llm.Request) (*llm.Completion, error) {
	return &llm.Completion{Model: "echo", PromptTokenIDs: []int{1, 2},
		Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: req.Messages[len(req.Messages)-1].Content + " ok"},
			TokenIDs: []int{5, 6}, Logprobs: []float64{-0.25, -0.5}}}}, nil
}

const honest = `
KNOBS = {"n": [3, 5], "word": ["w"]}
def setup(ctx):
    log("setup saw %d train rows and %d files" % (len(ctx.train), len(data.list())))
    return {"n": ctx.knobs["n"], "first": ctx.train[0]["label"]}
def solve(item, state):
    r = model.chat("q" + item["id"])
    log("solving " + item["id"])
    return "%s|%s|%s|%s" % (r.text, len(range(state["n"])), state["first"], data.read("a.txt"))
`

func TestWorkerSolvesLikeInProcess(t *testing.T) {
	var setupLogs []string
	var mu sync.Mutex
	rt := testRuntime(0)
	rt.OnSetupLog = func(l string) { mu.Lock(); setupLogs = append(setupLogs, l); mu.Unlock() }
	env := harness.Env{Model: llm.ModelFunc(echo), Public: fstest.MapFS{"a.txt": {Data: []byte("A")}},
		Train: []task.Example{{Item: task.Item{ID: "t1", Fields: map[string]any{"x": "1"}}, Label: "L1"}}, Seed: 3}
	h, err := rt.Load(t.Context(), harness.Source{Name: "h.star", Code: []byte(honest), Knobs: map[string]any{"n": int64(5)}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := h.Decl().Settings["n"]; got != int64(5) {
		t.Errorf("knob n = %#v, want int64 5", got)
	}
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := trajectory.NewRecorder()
			ans, err := h.Solve(t.Context(), task.Item{ID: id}, harness.Sample{Seed: 9, Rec: rec})
			if err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
			if want := "q" + id + " ok|5|L1|A"; ans != want {
				t.Errorf("%s: answer %q, want %q", id, ans, want)
			}
			steps := rec.Steps()
			if len(steps) != 2 || steps[0].Kind != trajectory.KindModel || steps[0].Completion != "q"+id+" ok" ||
				len(steps[0].CompletionTokenIDs) != 2 || steps[0].Logprobs[1] != -0.5 || steps[1].Text != "solving "+id {
				t.Errorf("%s: steps %+v", id, steps)
			}
		}()
	}
	wg.Wait()
	if len(setupLogs) != 1 || setupLogs[0] != "setup saw 1 train rows and 1 files" {
		t.Errorf("setup logs %q", setupLogs)
	}
	// A load's own Env.SetupLog takes its lines instead (the agents'
	// measuring tool shows each fold's).
	var mine []string
	env.SetupLog = func(l string) { mine = append(mine, l) }
	h2, err := rt.Load(t.Context(), harness.Source{Name: "h.star", Code: []byte(honest)}, env)
	if err != nil {
		t.Fatal(err)
	}
	h2.Close()
	if len(mine) != 1 || mine[0] != "setup saw 1 train rows and 1 files" || len(setupLogs) != 1 {
		t.Errorf("env setup log %q, runtime's %q", mine, setupLogs)
	}
	d, err := rt.Inspect(harness.Source{Name: "h.star", Code: []byte(honest)})
	if err != nil || len(d.Order) != 2 || d.Order[0] != "n" {
		t.Errorf("inspect: %+v, %v", d, err)
	}
}

// Memory bombs fail their item with a clear reason; the next item is
// solved by a fresh worker; the test process (sia) is unharmed.
func TestMemoryBombsFailTheirItem(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: fills worker heaps to their cap; .ci/run runs it")
	}
	skipUnderRace(t)
	for name, bomb := range map[string]string{
		"list repeat":      `x = [0] * 999999999`,
		"doubling strings": "s = 'x'\n        for i in range(64):\n            s = s + s",
		"join of refs":     "s = 'x' * (1 << 26)\n        x = ''.join([s] * 64)",
	} {
		t.Run(name, func(t *testing.T) {
			code := "def solve(item):\n    if item['id'] == 'bomb':\n        " + bomb + "\n    return 'fine'\n"
			rt := testRuntime(512 << 20)
			h, err := rt.Load(t.Context(), harness.Source{Name: "b.star", Code: []byte(code)}, harness.Env{})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			_, err = h.Solve(ctx, task.Item{ID: "bomb"}, harness.Sample{Rec: trajectory.NewRecorder()})
			if !errors.Is(err, ErrWorkerDied) || !strings.Contains(err.Error(), "memory limit") {
				t.Fatalf("bomb: err = %v, want the worker to die of its memory limit", err)
			}
			ans, err := h.Solve(ctx, task.Item{ID: "ok"}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil || ans != "fine" {
				t.Fatalf("the next item: %q, %v", ans, err)
			}
		})
	}
}

// A harness whose every item kills its worker stops restarting it.
func TestWorkerDeathsAreBounded(t *testing.T) {
	skipUnderRace(t)
	rt := testRuntime(256 << 20)
	rt.MaxDeaths = 2
	h, err := rt.Load(t.Context(), harness.Source{Name: "b.star", Code: []byte("def solve(item):\n    return [0] * 999999999\n")}, harness.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var last error
	for i := range 5 {
		_, last = h.Solve(t.Context(), task.Item{ID: "x"}, harness.Sample{Index: i, Rec: trajectory.NewRecorder()})
		if !errors.Is(last, ErrWorkerDied) {
			t.Fatalf("solve %d: %v", i, last)
		}
	}
	if !strings.Contains(last.Error(), "remaining items fail") {
		t.Errorf("after the bound: %v", last)
	}
}

// A bomb at the top level fails Load and Inspect, not the caller.
func TestTopLevelBomb(t *testing.T) {
	skipUnderRace(t)
	rt := testRuntime(256 << 20)
	src := harness.Source{Name: "b.star", Code: []byte("X = [0] * 999999999\ndef solve(item):\n    return 1\n")}
	if _, err := rt.Load(t.Context(), src, harness.Env{}); err == nil {
		t.Error("load succeeded")
	}
	if _, err := rt.Inspect(src); err == nil {
		t.Error("inspect succeeded")
	}
}

func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("memory-limit test: the race detector's shadow memory does not fit a small heap cap (.ci/run runs it without -race)")
	}
}
