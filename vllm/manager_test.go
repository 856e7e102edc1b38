package vllm

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/vllm/vllmtest"
)

func writeAdapter(t *testing.T, dir string, rank int) string {
	t.Helper()
	if err := adapter.WriteLoRA(dir, adapter.NewConfig("org/base", rank, 2*float64(rank), []string{"q_proj"}), 1, 8, 8); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPublishVersionsSwitchAndUnload(t *testing.T) {
	for _, nested := range []bool{false, true} {
		t.Run(map[bool]string{false: "flat errors", true: "nested errors"}[nested], func(t *testing.T) {
			srv := vllmtest.New("org/base")
			srv.NestedErrors = nested
			defer srv.Close()
			var switched []string
			var events []string
			m, err := New(Config{
				BaseURL: srv.URL + "/v1/", MaxRank: 16, BaseModel: "org/base",
				Switch: func(ctx context.Context, name string, version int) error {
					// At switch time the new version is loaded and the old one still is.
					loaded := srv.Loaded()
					if loaded[len(loaded)-1] != name {
						t.Errorf("switch to %s before it was loaded: %v", name, loaded)
					}
					switched = append(switched, name)
					return nil
				},
				OnEvent: func(e Event) { events = append(events, e.Kind+":"+e.Name) },
			})
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			ctx := context.Background()
			for _, v := range []int{1, 2, 7} {
				dir := writeAdapter(t, filepath.Join(root, "gen", string(rune('0'+v))), 8)
				name, err := m.Publish(ctx, dir, v)
				if err != nil {
					t.Fatalf("publish v%d: %v", v, err)
				}
				if want := m.Name(v); name != want {
					t.Fatalf("name %q, want %q", name, want)
				}
				if got := srv.Loaded(); !reflect.DeepEqual(got, []string{name}) {
					t.Fatalf("after v%d loaded = %v, want only %s", v, got, name)
				}
			}
			if !reflect.DeepEqual(switched, []string{"policy-v0001", "policy-v0002", "policy-v0007"}) {
				t.Errorf("switched %v", switched)
			}
			wantEvents := []string{"loaded:policy-v0001", "switched:policy-v0001",
				"loaded:policy-v0002", "switched:policy-v0002", "unloaded:policy-v0001",
				"loaded:policy-v0007", "switched:policy-v0007", "unloaded:policy-v0002"}
			if !reflect.DeepEqual(events, wantEvents) {
				t.Errorf("events\n got %v\nwant %v", events, wantEvents)
			}
			// Payloads: load carries the name and the absolute folder; unload only the name.
			calls := srv.Calls()
			if calls[0].Route != "load_lora_adapter" || calls[0].Body["lora_name"] != "policy-v0001" ||
				!filepath.IsAbs(calls[0].Body["lora_path"].(string)) || len(calls[0].Body) != 2 {
				t.Errorf("first load payload %+v", calls[0])
			}
			if calls[2].Route != "unload_lora_adapter" || calls[2].Body["lora_name"] != "policy-v0001" || len(calls[2].Body) != 1 {
				t.Errorf("unload payload %+v", calls[2])
			}
			if name, v := m.Current(); name != "policy-v0007" || v != 7 {
				t.Errorf("current %s %d", name, v)
			}
			// A name is never reused: publishing v7 again gets a fresh one.
			if name, err := m.Publish(ctx, writeAdapter(t, filepath.Join(root, "again"), 8), 7); err != nil || name != "policy-v0008" {
				t.Errorf("republished v7 as %q (%v), want policy-v0008", name, err)
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	for _, nested := range []bool{false, true} {
		srv := vllmtest.New("org/base")
		srv.NestedErrors = nested
		m, err := New(Config{BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		dir := writeAdapter(t, t.TempDir(), 4)
		if err := m.Load(ctx, "x", dir); err != nil {
			t.Fatal(err)
		}
		err = m.Load(ctx, "x", dir)
		var apiErr *APIError
		if !errors.Is(err, ErrAlreadyLoaded) || !errors.As(err, &apiErr) || apiErr.Status != 400 ||
			apiErr.Type != "InvalidUserInput" || apiErr.Code != 400 || !strings.Contains(apiErr.Message, "'x' has already been loaded") {
			t.Errorf("nested=%v duplicate: %v %+v", nested, err, apiErr)
		}
		err = m.Unload(ctx, "nope")
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Type != "NotFoundError" {
			t.Errorf("nested=%v unknown: %v", nested, err)
		}
		if err := m.Load(ctx, "y", "/no/such/path"); !errors.Is(err, ErrNotFound) {
			t.Errorf("nested=%v bad path: %v", nested, err)
		}
		models, err := m.Models(ctx)
		if err != nil || len(models) != 2 || models[1].ID != "x" || models[1].Parent != "org/base" {
			t.Errorf("models %+v %v", models, err)
		}
		srv.Close()
	}
}

func TestPublishRefusals(t *testing.T) {
	srv := vllmtest.New("org/base")
	defer srv.Close()
	ctx := context.Background()

	m, _ := New(Config{BaseURL: srv.URL, MaxRank: 4})
	if _, err := m.Publish(ctx, writeAdapter(t, t.TempDir(), 8), 1); !errors.Is(err, adapter.ErrInvalid) {
		t.Errorf("rank 8 over max 4: %v", err)
	}
	if len(srv.Calls()) != 0 {
		t.Errorf("invalid adapter reached the server: %v", srv.Calls())
	}

	// A failed switch unloads the new version and leaves the old one serving.
	fail := false
	m2, _ := New(Config{BaseURL: srv.URL, Switch: func(context.Context, string, int) error {
		if fail {
			return errors.New("gateway down")
		}
		return nil
	}})
	if _, err := m2.Publish(ctx, writeAdapter(t, t.TempDir(), 4), 1); err != nil {
		t.Fatal(err)
	}
	fail = true
	if _, err := m2.Publish(ctx, writeAdapter(t, t.TempDir(), 4), 2); err == nil || !strings.Contains(err.Error(), "gateway down") {
		t.Errorf("switch failure: %v", err)
	}
	if got := srv.Loaded(); !reflect.DeepEqual(got, []string{"policy-v0001"}) {
		t.Errorf("after failed switch loaded = %v", got)
	}
	if name, _ := m2.Current(); name != "policy-v0001" {
		t.Errorf("current after failed switch %s", name)
	}
	// …and the failed version's name is burnt.
	fail = false
	if name, err := m2.Publish(ctx, writeAdapter(t, t.TempDir(), 4), 2); err != nil || name != "policy-v0003" {
		t.Errorf("v2 after a failed switch published as %q (%v), want the fresh name policy-v0003", name, err)
	}

	// Remote path mapping.
	local := t.TempDir()
	m3, _ := New(Config{BaseURL: srv.URL, LocalRoot: local, RemoteRoot: "/mnt/runs", Prefix: "p"})
	name, err := m3.Publish(ctx, writeAdapter(t, filepath.Join(local, "run_1", "gen_2", "adapter"), 4), 3)
	if err != nil || name != "p-v0003" {
		// the fake cannot see /mnt/runs, so expect its 404
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("mapped publish: %v", err)
		}
	}
	calls := srv.Calls()
	if got := calls[len(calls)-1].Body["lora_path"]; got != "/mnt/runs/run_1/gen_2/adapter" {
		t.Errorf("mapped path %v", got)
	}
	if _, err := m3.Publish(ctx, writeAdapter(t, t.TempDir(), 4), 4); err == nil || !strings.Contains(err.Error(), "outside the local root") {
		t.Errorf("path outside root: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []Config{{}, {BaseURL: "http://x", Keep: -1}, {BaseURL: "http://x", LocalRoot: "/a"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestPolicyServesBaseThenVersions(t *testing.T) {
	srv := vllmtest.New("org/base")
	defer srv.Close()
	m, _ := New(Config{BaseURL: srv.URL})
	var served []string
	policy := m.Policy("org/base", func(name string) (llm.Model, error) {
		served = append(served, name)
		return llm.ModelFunc(func(context.Context, llm.Request) (*llm.Completion, error) {
			return &llm.Completion{Model: name}, nil
		}), nil
	})
	ctx := context.Background()
	dir := writeAdapter(t, t.TempDir(), 4)
	for _, v := range []int{0, 1, 1, 2} {
		d := dir
		if v == 0 {
			d = ""
		}
		mdl, err := policy(ctx, d, v)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if c, _ := mdl.Chat(ctx, llm.Request{}); c.Model != served[len(served)-1] {
			t.Errorf("model %q", c.Model)
		}
	}
	if !reflect.DeepEqual(served, []string{"org/base", "policy-v0001", "policy-v0001", "policy-v0002"}) {
		t.Errorf("served %v", served)
	}
	if n := len(srv.Calls()); n != 3 { // load v1, load v2, unload v1
		t.Errorf("%d server calls, want 3", n)
	}
	// Keep-best may return to v1 after it was unloaded: it is loaded again
	// under a fresh name, never under its old one.
	mdl, err := policy(ctx, dir, 1)
	if err != nil {
		t.Fatalf("v1 again: %v", err)
	}
	if c, _ := mdl.Chat(ctx, llm.Request{}); c.Model != "policy-v0003" {
		t.Errorf("v1 served again as %q, want policy-v0003", c.Model)
	}
}
