package tinker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

// diff compares decoded JSON against want (maps, slices, numbers as
// float64 with a float32-sized tolerance) and names the first difference.
func diff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want object", path, got)
		}
		var gk, wk []string
		for k := range g {
			gk = append(gk, k)
		}
		for k := range w {
			wk = append(wk, k)
		}
		sort.Strings(gk)
		sort.Strings(wk)
		if strings.Join(gk, ",") != strings.Join(wk, ",") {
			return fmt.Sprintf("%s: keys %v, want %v", path, gk, wk)
		}
		for _, k := range wk {
			if d := diff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-5*math.Max(1, math.Abs(w)) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, w)
		}
	default:
		if got != want {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
	}
	return ""
}

// js turns a Go literal into its decoded-JSON form for diff.
func js(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

func modelStep(prompt, completion []int, logprobs []float64, version int) trajectory.Step {
	return trajectory.Step{Kind: trajectory.KindModel, PromptTokenIDs: prompt, CompletionTokenIDs: completion, Logprobs: logprobs, AdapterVersion: version}
}

func grpoRollouts(version int) []trajectory.Trajectory {
	return []trajectory.Trajectory{
		{Item: "a", Sample: 0, Reward: 1, Steps: []trajectory.Step{modelStep([]int{10, 11, 12}, []int{20, 21}, []float64{-0.1, -0.2}, version)}},
		{Item: "a", Sample: 1, Reward: 0, Steps: []trajectory.Step{modelStep([]int{10, 11, 12}, []int{22}, []float64{-0.3}, version)}},
		// Equal rewards: zero advantage, so no datum.
		{Item: "b", Sample: 0, Reward: 0.5, Steps: []trajectory.Step{modelStep([]int{30}, []int{31, 32}, []float64{-1, -1}, version)}},
		{Item: "b", Sample: 1, Reward: 0.5, Steps: []trajectory.Step{modelStep([]int{30}, []int{33}, []float64{-1}, version)}},
	}
}

func testConfig(f *fakeTinker) Config {
	return Config{BaseURL: f.srv.URL + "/", APIKey: "key-123", BaseModel: "org/base",
		PollInterval: time.Millisecond, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, FutureTimeout: 10 * time.Second}
}

func TestGRPORoundTrip(t *testing.T) {
	f := newFake(t)
	f.archive = peftArchive(t, 32)
	f.pending, f.tryAgain = 1, 1
	tr, err := New(context.Background(), testConfig(f))
	if err != nil {
		t.Fatal(err)
	}
	gen := t.TempDir()
	res, err := tr.Train(context.Background(), train.Request{
		Run: "run 1", Gen: 2, Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 3, Seed: 7,
		OutDir: filepath.Join(gen, "adapter"), MetricsPath: filepath.Join(gen, "train.jsonl"),
	})
	if err != nil {
		t.Fatal(err)
	}

	// Every submission carries the key and asks for JSON.
	for _, c := range f.calls {
		if c.Header.Get("X-API-Key") != "key-123" && !strings.HasPrefix(c.Route, "GET /download") {
			t.Errorf("%s without API key", c.Route)
		}
	}
	// The signed URL is fetched as the SDK fetches it: no credentials.
	if c := f.routeCalls("GET /download/ckpt.tar"); len(c) != 1 || c[0].Header.Get("X-API-Key") != "" {
		t.Errorf("download calls %v (want one, without the key)", c)
	}

	checks := []struct {
		route string
		want  any
	}{
		{"create_session", map[string]any{"tags": []any{"sia"}, "user_metadata": map[string]any{"run": "run 1"}, "sdk_version": "sia-go", "type": "create_session"}},
		{"create_model", map[string]any{"session_id": "sess-1", "model_seq_id": 0.0, "base_model": "org/base",
			"user_metadata": map[string]any{"run": "run 1"}, "type": "create_model",
			"lora_config": map[string]any{"rank": 32.0, "seed": 7.0, "train_unembed": true, "train_mlp": true, "train_attn": true}}},
		{"optim_step", map[string]any{"model_id": "model-1", "seq_id": 2.0, "type": "optim_step",
			"adam_params": map[string]any{"learning_rate": 1e-4, "beta1": 0.9, "beta2": 0.95, "eps": 1e-12}}},
		{"save_weights", map[string]any{"model_id": "model-1", "seq_id": 3.0, "type": "save_weights", "path": "sia-run_1-gen002-v0003"}},
		{"save_weights_for_sampler", map[string]any{"model_id": "model-1", "seq_id": 4.0, "type": "save_weights_for_sampler", "path": "sia-run_1-gen002-v0003-sampler"}},
	}
	for _, c := range checks {
		calls := f.routeCalls(c.route)
		if len(calls) != 1 {
			t.Fatalf("%s called %d times", c.route, len(calls))
		}
		if d := diff(c.route, calls[0].Body, js(c.want)); d != "" {
			t.Error(d)
		}
	}

	// forward_backward: model_input = seq[:-1], loss inputs aligned to
	// seq[1:], zeros on prompt positions; item b has no signal.
	a := (1 - 0.5) / (0.5 + rl.GroupEps)
	wantFB := map[string]any{
		"model_id": "model-1", "seq_id": 1.0,
		"forward_backward_input": map[string]any{
			"loss_fn": "importance_sampling",
			"data": []any{
				map[string]any{
					"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []any{10.0, 11.0, 12.0, 20.0}}}},
					"loss_fn_inputs": map[string]any{
						"target_tokens": map[string]any{"data": []any{11.0, 12.0, 20.0, 21.0}, "dtype": "int64", "shape": []any{4.0}},
						"logprobs":      map[string]any{"data": []any{0.0, 0.0, -0.1, -0.2}, "dtype": "float32", "shape": []any{4.0}},
						"advantages":    map[string]any{"data": []any{0.0, 0.0, a, a}, "dtype": "float32", "shape": []any{4.0}},
					},
				},
				map[string]any{
					"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []any{10.0, 11.0, 12.0}}}},
					"loss_fn_inputs": map[string]any{
						"target_tokens": map[string]any{"data": []any{11.0, 12.0, 22.0}, "dtype": "int64", "shape": []any{3.0}},
						"logprobs":      map[string]any{"data": []any{0.0, 0.0, -0.3}, "dtype": "float32", "shape": []any{3.0}},
						"advantages":    map[string]any{"data": []any{0.0, 0.0, -a}, "dtype": "float32", "shape": []any{3.0}},
					},
				},
			},
		},
	}
	fb := f.routeCalls("forward_backward")
	if len(fb) != 1 {
		t.Fatalf("forward_backward called %d times", len(fb))
	}
	if d := diff("forward_backward", fb[0].Body, wantFB); d != "" {
		t.Error(d)
	}

	// Futures: each polled with its id, 408 then try_again then the result.
	polls := f.routeCalls("retrieve_future")
	// create_model, forward_backward, optim_step, save ×2: 5 futures × 3 polls.
	if len(polls) != 5*3 {
		t.Fatalf("retrieve_future called %d times, want 15", len(polls))
	}
	for i, p := range polls {
		if d := diff("retrieve_future", p.Body, map[string]any{"request_id": fmt.Sprint(i/3 + 1), "allow_metadata_only": true}); d != "" {
			t.Error(d)
		}
		if got := p.Header.Get("X-Tinker-Request-Iteration"); got != fmt.Sprint(i%3) {
			t.Errorf("poll %d iteration header %q", i, got)
		}
	}
	if got := polls[3].Header.Get("X-Tinker-Request-Type"); got != "ForwardBackward" {
		t.Errorf("request type header %q", got)
	}

	// Result and files.
	if res.Name != "tinker://model-1/sampler_weights/sia-run_1-gen002-v0003-sampler" || res.Version != 3 || res.AdapterDir != filepath.Join(gen, "adapter") {
		t.Errorf("result %+v", res)
	}
	if res.Metrics["loss:sum"] != 3 || res.Metrics["datums"] != 2 || res.Metrics["completion_tokens"] != 3 || res.Metrics["optim/lr"] != 1e-4 {
		t.Errorf("metrics %v", res.Metrics)
	}
	if _, err := adapter.Validate(res.AdapterDir, adapter.Expect{Rank: 32}); err != nil {
		t.Errorf("downloaded adapter: %v", err)
	}
	var st State
	b, err := os.ReadFile(filepath.Join(res.AdapterDir, StateFile))
	if err != nil || json.Unmarshal(b, &st) != nil || st.ModelID != "model-1" || st.StatePath != "tinker://model-1/weights/sia-run_1-gen002-v0003" || st.SamplerPath != res.Name {
		t.Errorf("state %+v %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(gen, "train.jsonl")); err != nil || !strings.Contains(string(b), `"loss:sum":3`) {
		t.Errorf("metrics log %q %v", b, err)
	}

	// A second generation reuses the model: no new session or model, seq ids continue.
	if _, err := tr.Train(context.Background(), train.Request{Run: "run 1", Gen: 3, Algorithm: rl.GRPO, Rollouts: grpoRollouts(3),
		Version: 4, OutDir: filepath.Join(gen, "adapter4"), Parent: res.AdapterDir, ParentVersion: 3}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.routeCalls("create_model")); n != 1 {
		t.Errorf("create_model called %d times", n)
	}
	if fb := f.routeCalls("forward_backward"); fb[1].Body["seq_id"] != 5.0 {
		t.Errorf("second forward_backward seq_id %v", fb[1].Body["seq_id"])
	}
}

func TestFuturePollingDeadline(t *testing.T) {
	f := newFake(t)
	f.never = true
	cfg := testConfig(f)
	cfg.FutureTimeout = 150 * time.Millisecond
	cfg.PollInterval = 10 * time.Millisecond
	tr, _ := New(context.Background(), cfg)
	start := time.Now()
	_, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "CreateModel") || !strings.Contains(err.Error(), "not done within 150ms") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("deadline overrun: %v", el)
	}
	if n := len(f.routeCalls("retrieve_future")); n < 3 {
		t.Errorf("only %d polls before the deadline", n)
	}
}

func TestSlowFutureCompletes(t *testing.T) {
	f := newFake(t)
	f.pending, f.tryAgain = 4, 3
	cfg := testConfig(f)
	cfg.SkipDownload = true
	tr, _ := New(context.Background(), cfg)
	res, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.routeCalls("retrieve_future")); n != 5*8 {
		t.Errorf("%d polls, want 40 (5 futures × (4 pending + 3 try_again + 1))", n)
	}
	entries, _ := os.ReadDir(res.AdapterDir)
	if len(entries) != 1 || entries[0].Name() != StateFile {
		t.Errorf("skip-download folder holds %v", entries)
	}
}

func TestFailedFuture(t *testing.T) {
	tests := []struct {
		name, category string
		body           map[string]string
	}{
		{"user error", "user", map[string]string{"error": "target_tokens length 3 != model_input length 4", "category": "user"}},
		{"server error", "server", map[string]string{"error": "worker lost", "category": "server"}},
		{"no category", "unknown", map[string]string{"error": "boom"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.failOp, f.failBody = "forward_backward", tc.body
			tr, _ := New(context.Background(), testConfig(f))
			_, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()})
			var fe *FutureError
			if !errors.As(err, &fe) || fe.Category != tc.category || fe.Message != tc.body["error"] || fe.Op != "ForwardBackward" {
				t.Fatalf("err = %v (%+v)", err, fe)
			}
			if n := len(f.routeCalls("forward_backward")); n != 1 {
				t.Errorf("failed operation submitted %d times", n)
			}
			if n := len(f.routeCalls("optim_step")); n != 0 {
				t.Errorf("optim_step after a failed forward_backward")
			}
		})
	}
}

func TestExpiredFutureResubmits(t *testing.T) {
	f := newFake(t)
	f.expireOp = "optim_step"
	cfg := testConfig(f)
	cfg.SkipDownload = true
	tr, _ := New(context.Background(), cfg)
	if _, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	calls := f.routeCalls("optim_step")
	if len(calls) != 2 || string(calls[0].Raw) != string(calls[1].Raw) {
		t.Errorf("optim_step submissions %d (identical resubmission expected)", len(calls))
	}
}

func TestUnsupportedAlgorithms(t *testing.T) {
	f := newFake(t)
	tr, _ := New(context.Background(), testConfig(f))
	for _, alg := range []rl.Algorithm{rl.PPO, rl.DPO} {
		_, err := tr.Train(context.Background(), train.Request{Algorithm: alg, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()})
		if !errors.Is(err, train.ErrUnsupported) || !strings.Contains(err.Error(), "--trainer command") {
			t.Errorf("%s: %v", alg, err)
		}
		if tr.Supports(alg) == nil {
			t.Errorf("Supports(%s) = nil", alg)
		}
	}
	for _, alg := range []rl.Algorithm{rl.GRPO, rl.Entropic, rl.ReinforceKL, rl.BestOfN} {
		if err := tr.Supports(alg); err != nil {
			t.Errorf("Supports(%s) = %v", alg, err)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("refused algorithms reached the server: %d calls", len(f.calls))
	}
}

func TestReinforceKLUsesBaseLogprobs(t *testing.T) {
	f := newFake(t)
	f.refLogprob = -0.5
	cfg := testConfig(f)
	cfg.SkipDownload = true
	cfg.KLCoef = 0.1
	tr, _ := New(context.Background(), cfg)
	res, err := tr.Train(context.Background(), train.Request{Algorithm: rl.ReinforceKL, Rollouts: grpoRollouts(2), Version: 3, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// One asample per example sampled from an adapter (4), on the base model
	// with prompt logprobs over the whole sequence.
	as := f.routeCalls("asample")
	if len(as) != 4 {
		t.Fatalf("asample called %d times", len(as))
	}
	for _, c := range as {
		if c.Body["base_model"] != "org/base" || c.Body["prompt_logprobs"] != true || c.Body["num_samples"] != 1.0 || c.Body["type"] != "sample" {
			t.Errorf("asample body %v", c.Body)
		}
	}
	// a/0: r − LOO baseline = 1, token KL = lp − (−0.5).
	fb := f.routeCalls("forward_backward")[0].Body["forward_backward_input"].(map[string]any)
	data := fb["data"].([]any)
	adv := data[0].(map[string]any)["loss_fn_inputs"].(map[string]any)["advantages"].(map[string]any)["data"]
	want := []any{0.0, 0.0, 1 - 0.1*(-0.1+0.5), 1 - 0.1*(-0.2+0.5)}
	if d := diff("advantages", adv, want); d != "" {
		t.Error(d)
	}
	// Item b has zero reward advantage but a KL term: it is trained too.
	if len(data) != 4 {
		t.Errorf("%d datums, want 4", len(data))
	}
	if math.Abs(res.Metrics["kl_to_base"]-(-0.1+0.5-0.2+0.5-0.3+0.5-1+0.5-1+0.5-1+0.5)/6) > 1e-9 {
		t.Errorf("kl_to_base %v", res.Metrics["kl_to_base"])
	}
}

func TestBestOfNCrossEntropyAndResume(t *testing.T) {
	f := newFake(t)
	f.archive = peftArchive(t, 32)
	f.skyrlArchive = true
	tr, _ := New(context.Background(), testConfig(f))
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, StateFile), []byte(`{"state_path":"tinker://model-0/weights/old"}`), 0o644)
	res, err := tr.Train(context.Background(), train.Request{Algorithm: rl.BestOfN, Rollouts: grpoRollouts(1), Version: 2,
		OutDir: filepath.Join(t.TempDir(), "adapter"), Parent: parent, ParentVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	lw := f.routeCalls("load_weights")
	if len(lw) != 1 || diff("load_weights", lw[0].Body, js(map[string]any{"model_id": "model-1", "path": "tinker://model-0/weights/old", "seq_id": 1, "optimizer": true, "type": "load_weights"})) != "" {
		t.Errorf("load_weights %v", lw)
	}
	fb := f.routeCalls("forward_backward")[0].Body["forward_backward_input"].(map[string]any)
	// a/0 is item a's top sample; item b's samples tie at 0.5, which reaches
	// the success threshold, so both are cloned.
	wantData := js([]map[string]any{
		{"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []int{10, 11, 12, 20}}}},
			"loss_fn_inputs": map[string]any{
				"target_tokens": map[string]any{"data": []int{11, 12, 20, 21}, "dtype": "int64", "shape": []int{4}},
				"weights":       map[string]any{"data": []float64{0, 0, 1, 1}, "dtype": "float32", "shape": []int{4}}}},
		{"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []int{30, 31}}}},
			"loss_fn_inputs": map[string]any{
				"target_tokens": map[string]any{"data": []int{31, 32}, "dtype": "int64", "shape": []int{2}},
				"weights":       map[string]any{"data": []float64{1, 1}, "dtype": "float32", "shape": []int{2}}}},
		{"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []int{30}}}},
			"loss_fn_inputs": map[string]any{
				"target_tokens": map[string]any{"data": []int{33}, "dtype": "int64", "shape": []int{1}},
				"weights":       map[string]any{"data": []float64{1}, "dtype": "float32", "shape": []int{1}}}},
	})
	if fb["loss_fn"] != "cross_entropy" {
		t.Errorf("loss_fn %v", fb["loss_fn"])
	}
	if d := diff("data", fb["data"], wantData); d != "" {
		t.Error(d)
	}
	// The SkyRL-style archive route took the bare checkpoint id after a 404.
	if _, err := adapter.Validate(res.AdapterDir, adapter.Expect{}); err != nil {
		t.Error(err)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{},
		{BaseModel: "m", PolicyLoss: "dro"},
		{BaseModel: "m", ClipLow: 1.5},
	}
	for _, c := range bad {
		if _, err := New(context.Background(), c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if got := OAIBaseURL("http://x:8000/"); got != "http://x:8000/oai/api/v1" {
		t.Errorf("OAIBaseURL %q", got)
	}
}
