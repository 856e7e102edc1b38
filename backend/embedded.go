package backend

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainembedded "github.com/sia-agent/sia/train/embedded"
)

// Embedded is the embedded tinylm task model and its trainer, over one
// base. The base is made lazily — loaded from the cache, or pretrained on
// the task's corpus — on first use, so a harness that solves in code never
// pays for it.
type Embedded struct {
	task     *task.Task
	data     *task.Dataset
	cacheDir string
	notify   func(string)
	trainCfg trainembedded.Config // the trainer's settings (--dpo-nll)

	once sync.Once
	base *tinylm.Model
	path string
	err  error

	mu       sync.Mutex
	adapters map[string]*tinylm.Adapter // loaded adapters by folder
}

var (
	_ train.Trainer = (*Embedded)(nil)
	_ loop.Warmer   = lazyModel{}
)

// NewEmbedded returns the embedded target of a task. Its base lives in
// cacheDir; notify (nil: discard) receives pretraining progress lines.
func NewEmbedded(t *task.Task, data *task.Dataset, cacheDir string, notify func(string), trainCfg trainembedded.Config) *Embedded {
	return &Embedded{task: t, data: data, cacheDir: cacheDir, notify: notify, trainCfg: trainCfg, adapters: map[string]*tinylm.Adapter{}}
}

// Base returns the base model and its cache path, making it on first use.
func (e *Embedded) Base(ctx context.Context) (*tinylm.Model, string, error) {
	e.once.Do(func() {
		docs := genericCorpus(e.data.Train)
		if e.task.Bundle != nil && e.task.Bundle.Corpus != nil {
			docs = e.task.Bundle.Corpus(0)
		}
		if len(docs) == 0 {
			// No train split (a SIA task folder may have none): the base
			// learns the task's own description, so it can be called at
			// all; it has seen no answer.
			docs = descriptionCorpus(e.task)
			if e.notify != nil {
				e.notify(fmt.Sprintf("%s has no train split: the embedded base model is pretrained on its task description only (it has seen no answers; a real model profile, --target-profile, does better)", e.task.Spec.Name))
			}
		}
		if len(docs) == 0 {
			e.err = fmt.Errorf("task %q has no train split and no task description to pretrain the embedded base model on; use --target-profile with a real model", e.task.Spec.Name)
			return
		}
		corpus, err := embedded.EncodeCorpus(docs)
		if err != nil {
			e.err = err
			return
		}
		last, start := -1, time.Now()
		progress := func(step, total int, loss float64) {
			if pct := step * 10 / total; pct != last && e.notify != nil && step > 0 {
				last = pct
				left := time.Since(start) * time.Duration(total-step) / time.Duration(step)
				e.notify(fmt.Sprintf("pretraining the %s base model: step %d/%d, loss %.3f, %s left", e.task.Spec.Name, step, total, loss, left.Round(time.Second)))
			}
		}
		e.base, e.path, e.err = embedded.BaseFor(ctx, e.task.Spec.Name, corpus, embedded.DemoBase(), e.cacheDir, progress)
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

// descriptionCorpus teaches a base model to continue the paragraphs of the
// task's description (task.md and SAMPLE_TASK_DESCRIPTIONS.md): the first
// half of a paragraph as the user turn, the rest as the answer.
func descriptionCorpus(t *task.Task) [][]llm.Message {
	doc, _ := t.Doc()
	var out [][]llm.Message
	for _, para := range strings.Split(doc+"\n\n"+t.SampleTasks(), "\n\n") {
		text := []rune(strings.Join(strings.Fields(para), " "))
		if len(text) < 4 {
			continue
		}
		half := len(text) / 2
		out = append(out, []llm.Message{{Role: llm.RoleUser, Content: string(text[:half])},
			{Role: llm.RoleAssistant, Content: string(text[half:])}})
	}
	return out
}

// Policy implements loop.PolicyFactory. The model it returns makes the
// base on Warm (the loop calls it before a rollout whose harness uses the
// model) or, failing that, on the first call.
func (e *Embedded) Policy(_ context.Context, adapterDir string, version int) (llm.Model, error) {
	return lazyModel{e: e, chat: func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		base, _, err := e.Base(ctx)
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
	e    *Embedded
	chat func(ctx context.Context, req llm.Request) (*llm.Completion, error)
}

// Chat implements llm.Model.
func (m lazyModel) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	return m.chat(ctx, req)
}

// Warm loads or pretrains the base.
func (m lazyModel) Warm(ctx context.Context) error {
	_, _, err := m.e.Base(ctx)
	return err
}

func (e *Embedded) adapter(dir string, base *tinylm.Model) (*tinylm.Adapter, error) {
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

// trainer is the embedded trainer over the base.
func (e *Embedded) trainer(ctx context.Context) (*trainembedded.Trainer, error) {
	base, path, err := e.Base(ctx)
	if err != nil {
		return nil, err
	}
	return trainembedded.New(base, path, e.trainCfg)
}

// Train implements train.Trainer over the same base.
func (e *Embedded) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	tr, err := e.trainer(ctx)
	if err != nil {
		return nil, err
	}
	return tr.Train(ctx, req)
}

// RewardOptions says which calls the embedded trainer learns from (those
// that fit the base's context), without making the base.
func (e *Embedded) RewardOptions() reward.Options {
	return reward.Options{MaxTokens: embedded.DemoBase().Model.Context}
}

// KLToBase measures an adapter's KL to the base on sampled calls (see
// train/embedded.Trainer.KLToBase).
func (e *Embedded) KLToBase(ctx context.Context, adapterDir string, calls []reward.Call) ([]float64, error) {
	tr, err := e.trainer(ctx)
	if err != nil {
		return nil, err
	}
	return tr.KLToBase(ctx, adapterDir, calls)
}
