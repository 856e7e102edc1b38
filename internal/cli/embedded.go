package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainembedded "github.com/sia-agent/sia/train/embedded"
)

// embeddedTarget serves the embedded tinylm task model. Its base is made
// lazily — loaded from the cache, or pretrained on the task's corpus — on
// the first model call, so a harness that solves in code never pays for it.
type embeddedTarget struct {
	task     *task.Task
	data     *task.Dataset
	cacheDir string
	log      io.Writer

	once sync.Once
	base *tinylm.Model
	path string
	err  error

	mu       sync.Mutex
	adapters map[string]*tinylm.Adapter // loaded adapters by folder
}

func newEmbeddedTarget(t *task.Task, data *task.Dataset, cacheDir string, log io.Writer) *embeddedTarget {
	return &embeddedTarget{task: t, data: data, cacheDir: cacheDir, log: log, adapters: map[string]*tinylm.Adapter{}}
}

// baseModel returns the base, making it on first use.
func (e *embeddedTarget) baseModel(ctx context.Context) (*tinylm.Model, string, error) {
	e.once.Do(func() {
		docs := genericCorpus(e.data.Train)
		if e.task.Bundle != nil && e.task.Bundle.Corpus != nil {
			docs = e.task.Bundle.Corpus(0)
		}
		corpus, err := embedded.EncodeCorpus(docs)
		if err != nil {
			e.err = err
			return
		}
		cfg := embedded.DemoBase()
		last, start := -1, time.Now()
		progress := func(step, total int, loss float64) {
			pct := step * 10 / total
			if pct != last {
				last = pct
				eta := time.Since(start) * time.Duration(total-step) / time.Duration(step)
				fmt.Fprintf(e.log, "sia: pretraining the %s base model: step %d/%d, loss %.3f, %s left\n", e.task.Spec.Name, step, total, loss, eta.Round(time.Second))
			}
		}
		e.base, e.path, e.err = embedded.BaseFor(ctx, e.task.Spec.Name, corpus, cfg, e.cacheDir, progress)
	})
	return e.base, e.path, e.err
}

// genericCorpus teaches a base model the task's train examples: the item's
// fields as the user turn, the label as the answer.
func genericCorpus(train []task.Example) [][]llm.Message {
	out := make([][]llm.Message, 0, len(train))
	for _, ex := range train {
		keys := make([]string, 0, len(ex.Fields))
		for k := range ex.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s: %v\n", k, ex.Fields[k])
		}
		out = append(out, []llm.Message{{Role: llm.RoleUser, Content: b.String()}, {Role: llm.RoleAssistant, Content: ex.Label}})
	}
	return out
}

// policy implements loop.PolicyFactory. The model it returns makes the
// base on Warm (the loop calls it before a rollout whose harness uses the
// model) or, failing that, on the first call.
func (e *embeddedTarget) policy(_ context.Context, adapterDir string, version int) (llm.Model, error) {
	return lazyModel{e: e, chat: func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		base, _, err := e.baseModel(ctx)
		if err != nil {
			return nil, err
		}
		m, err := embedded.New(base, embedded.Config{})
		if err != nil {
			return nil, err
		}
		if adapterDir != "" {
			a, err := e.adapter(adapterDir, base)
			if err != nil {
				return nil, err
			}
			m = m.WithAdapter(a, version)
		}
		return m.Chat(ctx, req)
	}}, nil
}

// lazyModel is the embedded task model before its base exists.
type lazyModel struct {
	e    *embeddedTarget
	chat func(ctx context.Context, req llm.Request) (*llm.Completion, error)
}

var _ loop.Warmer = lazyModel{}

// Chat implements llm.Model.
func (m lazyModel) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	return m.chat(ctx, req)
}

// Warm loads or pretrains the base.
func (m lazyModel) Warm(ctx context.Context) error {
	_, _, err := m.e.baseModel(ctx)
	return err
}

func (e *embeddedTarget) adapter(dir string, base *tinylm.Model) (*tinylm.Adapter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.adapters[dir]; ok {
		return a, nil
	}
	a, err := tinylm.LoadPEFT(dir, base)
	if err != nil {
		return nil, fmt.Errorf("load adapter %s: %w", dir, err)
	}
	e.adapters[dir] = a
	return a, nil
}

// Train implements train.Trainer over the same base.
func (e *embeddedTarget) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	base, path, err := e.baseModel(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := trainembedded.New(base, path, trainembedded.Config{})
	if err != nil {
		return nil, err
	}
	return tr.Train(ctx, req)
}
