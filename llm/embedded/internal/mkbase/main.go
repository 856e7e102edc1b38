// Command mkbase pretrains base checkpoints to ship inside sia
// (llm/embedded/bases) and writes them into its manifest, keeping the
// entries of other tasks:
//
//	go run ./llm/embedded/internal/mkbase -tasks cipher
//
// The demo's shipped base predates it and is reproduced by legacy.sh in
// this folder (see llm/embedded/bases.go); running mkbase -tasks demo
// would replace it with what today's tinylm pretrains.
//
// Each base is embedded.DemoBase() pretrained on the task's corpus (seed 0),
// exactly what sia would pretrain on the task's first run; the manifest
// records its cache key and SHA-256. GOMAXPROCS is pinned to 2 because the
// batch's cut into parallel groups follows it and changes the rounding:
// with it pinned, the bytes are the same on every amd64 machine with AVX2
// and FMA. It prints each task's progress, the time taken and the entry.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/tinylm"
)

// entry is one line of bases/manifest.json (the fields of
// embedded's shippedBase).
type entry struct {
	Task   string `json:"task"`
	Key    string `json:"key"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	MadeBy string `json:"made_by"`
}

// madeBy is the command recorded for the bases mkbase makes.
func madeBy(task string) string { return "go run ./llm/embedded/internal/mkbase -tasks " + task }

// procs is the GOMAXPROCS every shipped base is pretrained under.
const procs = 2

func main() {
	out := flag.String("out", filepath.Join("llm", "embedded", "bases"), "folder for the checkpoints and manifest.json")
	tasks := flag.String("tasks", "demo", "comma-separated bundled tasks")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, strings.Split(*tasks, ","), os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkbase:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, tasks []string, log io.Writer) error {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var entries []entry
	for _, name := range tasks {
		corpus, err := taskCorpus(name)
		if err != nil {
			return err
		}
		cfg := embedded.DemoBase()
		start := time.Now()
		opt := cfg.Pretrain
		opt.Progress = func(step, total int, loss float64) {
			if step%100 == 0 || step == total {
				fmt.Fprintf(log, "%s: step %d/%d, loss %.3f, %.0f s\n", name, step, total, loss, time.Since(start).Seconds())
			}
		}
		m, err := tinylm.Pretrain(ctx, cfg.Model, corpus, opt)
		if err != nil {
			return fmt.Errorf("pretrain %s: %w", name, err)
		}
		file := name + ".safetensors"
		if err := m.Save(filepath.Join(out, file)); err != nil {
			return err
		}
		sum, err := fileSHA256(filepath.Join(out, file))
		if err != nil {
			return err
		}
		e := entry{Task: name, Key: embedded.CacheKey(corpus, cfg), File: file, SHA256: sum, MadeBy: madeBy(name)}
		fmt.Fprintf(log, "%s: %.1f s, %+v\n", name, time.Since(start).Seconds(), e)
		entries = append(entries, e)
	}
	// Entries for other tasks stay as they are.
	old, err := readManifestFile(filepath.Join(out, "manifest.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range old {
		if !slices.ContainsFunc(entries, func(n entry) bool { return n.Task == e.Task }) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.Task, b.Task) })
	data, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(data, '\n'), 0o644)
}

func readManifestFile(path string) ([]entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var es []entry
	if err := json.Unmarshal(data, &es); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return es, nil
}

// taskCorpus is the pretraining corpus sia builds for a bundled task's base
// (internal/cli: the bundle's Corpus(0), encoded with the chat template).
func taskCorpus(name string) ([][]int, error) {
	reg, err := bundled.Registry()
	if err != nil {
		return nil, err
	}
	b, ok := reg.Bundle(name)
	if !ok || b.Corpus == nil {
		return nil, fmt.Errorf("task %q has no pretraining corpus (bundled tasks: %s)", name, strings.Join(reg.Names(), ", "))
	}
	return embedded.EncodeCorpus(b.Corpus(0))
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
