package isolate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing/fstest"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
)

// Inner is the in-process runtime a worker runs (the Starlark one).
type Inner interface {
	harness.Runtime
	harness.Inspector
}

// NewInner builds the inner runtime; onSetupLog receives log() lines of
// the harness's top level and setup.
type NewInner func(onSetupLog func(string)) Inner

// maxLine bounds one protocol line (a load carries the data view).
const maxLine = 1 << 30

// Serve is the worker: it reads requests from in and writes replies to
// out until in closes or ctx ends. A worker holds at most one loaded
// harness and solves items concurrently.
func Serve(ctx context.Context, in io.Reader, out io.Writer, newInner NewInner) error {
	w := &worker{out: json.NewEncoder(out), solves: map[int64]context.CancelFunc{}, calls: map[int64]chan message{}}
	var logMu sync.Mutex
	var logs []string
	rt := newInner(func(line string) {
		logMu.Lock()
		logs = append(logs, line)
		logMu.Unlock()
	})
	takeLogs := func() []string {
		logMu.Lock()
		defer logMu.Unlock()
		l := logs
		logs = nil
		return l
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<16), maxLine)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("worker: bad request: %w", err)
		}
		switch m.Op {
		case opInspect:
			reply := message{Op: opLoaded}
			if src, err := m.Src.harness(); err != nil {
				reply.Error = err.Error()
			} else if d, err := rt.Inspect(src); err != nil {
				reply.Error = err.Error()
			} else {
				reply.Decl = &d
			}
			reply.Logs = takeLogs()
			w.send(reply)
		case opLoad:
			reply := message{Op: opLoaded}
			if err := w.load(ctx, rt, m); err != nil {
				reply.Error = err.Error()
			} else {
				d := w.h.Decl()
				reply.Decl = &d
			}
			reply.Logs = takeLogs()
			w.send(reply)
		case opSolve:
			sctx, scancel := context.WithCancel(ctx)
			w.mu.Lock()
			w.solves[m.ID] = scancel
			w.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.solve(sctx, m)
				scancel()
			}()
		case opCancel:
			w.mu.Lock()
			if c, ok := w.solves[m.ID]; ok {
				c()
			}
			w.mu.Unlock()
		case opReply:
			w.mu.Lock()
			ch, ok := w.calls[m.Call]
			delete(w.calls, m.Call)
			w.mu.Unlock()
			if ok {
				ch <- m
			}
		default:
			return fmt.Errorf("worker: unknown op %q", m.Op)
		}
	}
	return sc.Err()
}

type worker struct {
	mu     sync.Mutex
	out    *json.Encoder
	h      harness.Harness
	solves map[int64]context.CancelFunc
	calls  map[int64]chan message
	nextID int64
}

func (w *worker) send(m message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.out.Encode(m)
}

func (w *worker) load(ctx context.Context, rt Inner, m message) error {
	if w.h != nil {
		return errors.New("worker: a harness is already loaded")
	}
	if m.Src == nil || m.Env == nil {
		return errors.New("worker: load needs a source and an env")
	}
	src, err := m.Src.harness()
	if err != nil {
		return err
	}
	files := fstest.MapFS{}
	for p, b := range m.Env.Files {
		files[p] = &fstest.MapFile{Data: b, Mode: 0o444}
	}
	env := harness.Env{TaskDoc: m.Env.TaskDoc, Train: m.Env.Train, Public: files, Seed: m.Env.Seed}
	if m.Env.HasModel {
		env.Model = llm.ModelFunc(w.chat)
	}
	h, err := rt.Load(ctx, src, env)
	if err != nil {
		return err
	}
	w.h = h
	return nil
}

// chat asks the parent to run a task-model call.
func (w *worker) chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	ch := make(chan message, 1)
	w.mu.Lock()
	w.nextID++
	id := w.nextID
	w.calls[id] = ch
	_ = w.out.Encode(message{Op: opModel, Call: id, Request: &req})
	w.mu.Unlock()
	select {
	case r := <-ch:
		if r.Error != "" {
			return nil, errors.New(r.Error)
		}
		if r.Completion == nil {
			return nil, errors.New("model call: empty reply")
		}
		return r.Completion, nil
	case <-ctx.Done():
		w.mu.Lock()
		delete(w.calls, id)
		w.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (w *worker) solve(ctx context.Context, m message) {
	defer func() {
		w.mu.Lock()
		delete(w.solves, m.ID)
		w.mu.Unlock()
	}()
	reply := message{Op: opDone, ID: m.ID}
	if w.h == nil || m.Item == nil {
		reply.Error = "worker: solve before load"
		w.send(reply)
		return
	}
	rec := trajectory.NewRecorder()
	ans, err := w.h.Solve(ctx, *m.Item, harness.Sample{Index: m.Sample, Seed: m.Seed, Rec: rec})
	reply.Answer, reply.Steps = ans, rec.Steps()
	if err != nil {
		reply.Error = err.Error()
	}
	w.send(reply)
}
