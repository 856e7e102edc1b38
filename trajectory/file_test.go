package trajectory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sia-agent/sia/llm"
)

func sampleTrajs(n int) []Trajectory {
	out := make([]Trajectory, n)
	for i := range out {
		out[i] = Trajectory{FormatVersion: FormatVersion, Run: "r", Gen: 2, Split: "val", Item: fmt.Sprintf("it%03d", i/3),
			Sample: i % 3, Answer: fmt.Sprint(i), Status: "correct", Reward: float64(i%2) * 0.5,
			Steps: []Step{{Kind: KindModel, Model: "m", Messages: []llm.Message{{Role: "user", Content: "q"}},
				PromptTokenIDs: []int{1, 2}, CompletionTokenIDs: []int{i}, Logprobs: []float64{-0.25}},
				{Kind: KindLog, Text: strings.Repeat("log ", i%7)}}}
	}
	return out
}

// Written files round-trip through every reader, compressed (what sia
// writes now) or plain (run folders from before), and a plain file is
// replaced by the compressed one when rewritten.
func TestFileRoundTrip(t *testing.T) {
	want := sampleTrajs(50)
	var plain bytes.Buffer
	if err := Write(&plain, want); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		onDisk  string // the file that must hold the data
		missing string // a file that must not exist
	}{
		{"compressed", func(t *testing.T, p string) {
			if err := WriteFile(p, want); err != nil {
				t.Fatal(err)
			}
		}, "rollouts.jsonl.zst", "rollouts.jsonl"},
		{"legacy plain", func(t *testing.T, p string) {
			if err := os.WriteFile(p, plain.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "rollouts.jsonl", "rollouts.jsonl.zst"},
		{"plain rewritten", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("stale\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(p, want); err != nil {
				t.Fatal(err)
			}
		}, "rollouts.jsonl.zst", "rollouts.jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "rollouts.jsonl")
			tc.setup(t, p)
			if _, err := os.Stat(filepath.Join(dir, tc.onDisk)); err != nil {
				t.Fatalf("want %s: %v", tc.onDisk, err)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.missing)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s should not exist: %v", tc.missing, err)
			}
			got, err := LoadPath(p)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("LoadPath: %d trajectories, %v", len(got), err)
			}
			n := 0
			if err := Each(os.DirFS(dir), "rollouts.jsonl", func(tr *Trajectory) error {
				if !reflect.DeepEqual(*tr, want[n]) {
					return fmt.Errorf("trajectory %d differs", n)
				}
				n++
				return nil
			}); err != nil || n != len(want) {
				t.Fatalf("Each: %d, %v", n, err)
			}
			f, _ := os.Open(filepath.Join(dir, tc.onDisk))
			defer f.Close()
			if got, err := Read(f); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Read: %d, %v", len(got), err)
			}
			if info, err := Stat(os.DirFS(dir), "rollouts.jsonl"); err != nil || info.Name() != tc.onDisk {
				t.Fatalf("Stat: %v %v", info, err)
			}
		})
	}
	// JSON lines compress several-fold: the point of the format.
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "r.jsonl"), sampleTrajs(3000)); err != nil {
		t.Fatal(err)
	}
	var big bytes.Buffer
	_ = Write(&big, sampleTrajs(3000))
	st, _ := os.Stat(filepath.Join(dir, "r.jsonl.zst"))
	if ratio := float64(big.Len()) / float64(st.Size()); ratio < 4 {
		t.Errorf("compression ratio %.1f, want ≥ 4", ratio)
	}
}

// A writer that never closes (a kill) leaves no file at the name, only a
// temp file of the kind a resume sweeps; a truncated file (a torn copy) is
// an error naming the line, never a silently short read.
func TestKilledAndTruncated(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rollouts.jsonl")
	w, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range sampleTrajs(20) {
		if err := w.Write(&tr); err != nil || w.Count() != i+1 {
			t.Fatal(err)
		}
	}
	// The process dies here: no Close.
	if _, err := Stat(os.DirFS(dir), "rollouts.jsonl"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file appeared before Close: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), ".rollouts.jsonl.zst.tmp") {
		t.Fatalf("left %v, want one sweepable temp file", entries)
	}
	w.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("abort left %v", entries)
	}

	want := sampleTrajs(400)
	if err := WriteFile(p, want); err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(p + CompressedExt)
	var plain bytes.Buffer
	_ = Write(&plain, want)
	tests := []struct {
		name string
		data []byte
	}{
		{"compressed, tail cut", full[:len(full)*2/3]},
		{"compressed, last bytes cut", full[:len(full)-3]},
		{"plain, torn last line", plain.Bytes()[:plain.Len()-40]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			r, err := NewReader(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var tr Trajectory
			for {
				err = r.Next(&tr)
				if err != nil {
					break
				}
				n++
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "line") {
				t.Fatalf("after %d of %d trajectories: %v, want an error naming the line", n, len(want), err)
			}
			if n >= len(want) {
				t.Fatalf("read all %d from a truncated file", n)
			}
		})
	}
	// Empty files and blank lines are fine.
	for _, data := range []string{"", "\n\n", "{\"item\":\"a\"}\n\n{\"item\":\"b\"}"} {
		got, err := Read(strings.NewReader(data))
		if err != nil || len(got) != strings.Count(data, "item") {
			t.Errorf("%q: %d %v", data, len(got), err)
		}
	}
}
