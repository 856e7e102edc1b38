package isolate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
)

// WorkerArg is the argument that makes the sia binary a worker
// (`sia __harness-worker`); the CLI routes it to Serve.
const WorkerArg = "__harness-worker"

// Runtime runs harnesses of an inner runtime in a child process, so a
// harness that exhausts memory (or crashes its interpreter) fails its
// items instead of the run.
type Runtime struct {
	// Command starts a worker (default: this executable with WorkerArg).
	Command []string
	// Memory caps the worker's heap (RLIMIT_DATA) in bytes (default
	// 4 GiB); the Go runtime's soft limit is set a little below it.
	Memory int64
	// MaxDeaths is how many times a loaded harness's worker may die before
	// its remaining items fail at once (default 3).
	MaxDeaths int
	// OnSetupLog receives log() lines of the harness's top level and setup.
	OnSetupLog func(line string)
}

var (
	_ harness.Runtime   = (*Runtime)(nil)
	_ harness.Inspector = (*Runtime)(nil)
)

// ErrWorkerDied wraps failures caused by the worker process ending.
var ErrWorkerDied = errors.New("harness process died")

func (r *Runtime) memory() int64 {
	if r.Memory > 0 {
		return r.Memory
	}
	return 4 << 30
}

// Inspect reads src's declared knobs in a worker of its own.
func (r *Runtime) Inspect(src harness.Source) (harness.Decl, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p, err := r.start(ctx, nil)
	if err != nil {
		return harness.Decl{}, err
	}
	defer p.kill()
	ws, err := toWire(src)
	if err != nil {
		return harness.Decl{}, err
	}
	reply, err := p.request(ctx, message{Op: opInspect, Src: ws})
	if err != nil {
		return harness.Decl{}, err
	}
	r.logs(reply.Logs)
	if reply.Error != "" {
		return harness.Decl{}, errors.New(reply.Error)
	}
	return *reply.Decl, nil
}

// Load starts a worker, loads src in it (top level and setup run there)
// and returns a harness whose Solve calls run there too.
func (r *Runtime) Load(ctx context.Context, src harness.Source, env harness.Env) (harness.Harness, error) {
	ws, err := toWire(src)
	if err != nil {
		return nil, err
	}
	ew := &envWire{TaskDoc: env.TaskDoc, Train: env.Train, Seed: env.Seed, HasModel: env.Model != nil, Files: map[string][]byte{}}
	if env.Public != nil {
		err := fs.WalkDir(env.Public, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(env.Public, p)
			ew.Files[p] = b
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("data view: %w", err)
		}
	}
	h := &Harness{rt: r, load: message{Op: opLoad, Src: ws, Env: ew}, model: env.Model, setupLog: env.SetupLog}
	if err := h.restart(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

func (r *Runtime) logs(lines []string) {
	if r.OnSetupLog != nil {
		for _, l := range lines {
			r.OnSetupLog(l)
		}
	}
}

// Harness is a harness loaded in a worker process.
type Harness struct {
	rt    *Runtime
	load  message
	model llm.Model
	// setupLog takes the setup's log lines instead of the runtime's
	// OnSetupLog when the load's Env names one.
	setupLog func(string)

	mu     sync.Mutex
	p      *proc
	decl   harness.Decl
	deaths int
	dead   error // set when the worker may not be restarted again
}

var _ harness.Harness = (*Harness)(nil)

// restart starts a worker and loads the harness in it.
func (h *Harness) restart(ctx context.Context) error {
	p, err := h.rt.start(ctx, h.model)
	if err != nil {
		return err
	}
	reply, err := p.request(ctx, h.load)
	if err != nil {
		p.kill()
		return err
	}
	if h.setupLog != nil {
		for _, l := range reply.Logs {
			h.setupLog(l)
		}
	} else {
		h.rt.logs(reply.Logs)
	}
	if reply.Error != "" {
		p.kill()
		return errors.New(reply.Error)
	}
	h.p, h.decl = p, *reply.Decl
	return nil
}

// worker returns a live worker, restarting a dead one while deaths allow.
func (h *Harness) worker(ctx context.Context) (*proc, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dead != nil {
		return nil, h.dead
	}
	if h.p != nil && !h.p.exited() {
		return h.p, nil
	}
	h.deaths++
	if h.deaths > h.rt.maxDeaths() {
		h.dead = fmt.Errorf("%w %d times; its remaining items fail: %v", ErrWorkerDied, h.deaths-1, h.p.why())
		return nil, h.dead
	}
	if err := h.restart(ctx); err != nil {
		h.dead = fmt.Errorf("%w; restarting it failed: %v", h.p.why(), err)
		return nil, h.dead
	}
	return h.p, nil
}

func (r *Runtime) maxDeaths() int {
	if r.MaxDeaths > 0 {
		return r.MaxDeaths
	}
	return 3
}

// Decl returns the declared knobs and their settings.
func (h *Harness) Decl() harness.Decl {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.decl
}

// Close ends the worker (and any solve still running in it).
func (h *Harness) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p != nil {
		h.p.kill()
	}
	return nil
}

// Solve runs one solve in the worker. The worker's steps are added to
// s.Rec; if the worker dies, the item fails with the reason.
func (h *Harness) Solve(ctx context.Context, item task.Item, s harness.Sample) (string, error) {
	p, err := h.worker(ctx)
	if err != nil {
		return "", fmt.Errorf("item %q: %w", item.ID, err)
	}
	reply, err := p.solve(ctx, item, s)
	if err != nil {
		return "", fmt.Errorf("item %q: %w", item.ID, err)
	}
	s.Rec.Append(reply.Steps)
	if reply.Error != "" {
		return "", errors.New(reply.Error)
	}
	return reply.Answer, nil
}

// proc is one worker process and the multiplexed conversation with it.
type proc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *headBuffer
	memory int64
	model  llm.Model

	mu      sync.Mutex
	enc     *json.Encoder
	nextID  int64
	pending map[int64]chan message // by solve id; 0 is the load/inspect reply
	done    chan struct{}          // closed when the worker's stdout ends
	err     error                  // why it ended
}

// start launches a worker.
func (r *Runtime) start(ctx context.Context, model llm.Model) (*proc, error) {
	argv := r.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("harness worker: %w", err)
		}
		argv = []string{exe, WorkerArg}
	}
	mem := r.memory()
	if prl, err := exec.LookPath("prlimit"); err == nil {
		// RLIMIT_DATA, not RLIMIT_AS: the Go runtime reserves far more
		// address space than it uses, and a reservation is not data.
		argv = append([]string{prl, "--data=" + strconv.FormatInt(mem, 10), "--core=0", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT="+strconv.FormatInt(mem*3/4, 10))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, in: in, stderr: &headBuffer{max: 4096}, memory: mem, model: model,
		enc: json.NewEncoder(in), pending: map[int64]chan message{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start harness worker: %w", err)
	}
	go p.read(out)
	return p, nil
}

// read dispatches the worker's messages until its stdout ends.
func (p *proc) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), maxLine)
	for sc.Scan() {
		var m message
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber() // knob values keep their integer type (harness.FixJSONNumbers)
		if err := dec.Decode(&m); err != nil {
			continue
		}
		if m.Decl != nil {
			m.Decl.FixJSONNumbers()
		}
		switch m.Op {
		case opModel:
			go p.chat(m)
		case opLoaded, opDone:
			id := m.ID
			if m.Op == opLoaded {
				id = 0
			}
			p.mu.Lock()
			ch, ok := p.pending[id]
			delete(p.pending, id)
			p.mu.Unlock()
			if ok {
				ch <- m
			}
		}
	}
	waitErr := p.cmd.Wait()
	p.mu.Lock()
	p.err = p.describe(waitErr)
	p.mu.Unlock()
	close(p.done)
}

// describe says why the worker ended, in words a harness author can act on.
func (p *proc) describe(waitErr error) error {
	head := strings.TrimSpace(p.stderr.String())
	var maxRSS int64 // bytes
	if ps := p.cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			maxRSS = ru.Maxrss << 10
		}
	}
	switch {
	case strings.Contains(head, "out of memory") || strings.Contains(head, "cannot allocate memory") ||
		strings.Contains(head, "failed to allocate"): // the last is the race detector's allocator
		return fmt.Errorf("%w: the harness exceeded its memory limit (%d MiB)", ErrWorkerDied, p.memory>>20)
	case strings.HasPrefix(head, "SIGSEGV") && maxRSS > p.memory/4:
		// A failed mapping at the limit can surface as a fault in the Go
		// runtime rather than as its out-of-memory message.
		return fmt.Errorf("%w: the harness crashed near its memory limit (%d MiB, %d MiB in use): %s",
			ErrWorkerDied, p.memory>>20, maxRSS>>20, firstLines(head, 1))
	case head != "":
		if i := strings.Index(head, "\n\n"); i > 0 {
			head = head[:i] // the goroutine dump after a fatal error says little
		}
		return fmt.Errorf("%w (%v): %s", ErrWorkerDied, waitErr, firstLines(head, 3))
	}
	return fmt.Errorf("%w (%v)", ErrWorkerDied, waitErr)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// chat runs one model call for the worker and sends the reply.
func (p *proc) chat(m message) {
	reply := message{Op: opReply, Call: m.Call}
	switch {
	case p.model == nil:
		reply.Error = llm.ErrNoModel.Error()
	case m.Request == nil:
		reply.Error = "model call without a request"
	default:
		// The call belongs to whichever solve made it; the parent bounds it
		// by the worker's life (Close kills the worker).
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-p.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		c, err := p.model.Chat(ctx, *m.Request)
		cancel()
		if err != nil {
			reply.Error = err.Error()
		} else {
			reply.Completion = c
		}
	}
	p.send(reply)
}

func (p *proc) send(m message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.enc.Encode(m)
}

// request sends a load or inspect and waits for its reply.
func (p *proc) request(ctx context.Context, m message) (message, error) {
	ch := make(chan message, 1)
	p.mu.Lock()
	p.pending[0] = ch
	err := p.enc.Encode(m)
	p.mu.Unlock()
	if err != nil {
		return message{}, fmt.Errorf("%w: %v", ErrWorkerDied, p.why())
	}
	select {
	case r := <-ch:
		return r, nil
	case <-p.done:
		return message{}, p.why()
	case <-ctx.Done():
		p.kill()
		return message{}, ctx.Err()
	}
}

// solve runs one solve and waits for it, or for the worker to die.
func (p *proc) solve(ctx context.Context, item task.Item, s harness.Sample) (message, error) {
	ch := make(chan message, 1)
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.pending[id] = ch
	err := p.enc.Encode(message{Op: opSolve, ID: id, Item: &item, Sample: s.Index, Seed: s.Seed})
	if err != nil {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if err != nil {
		if p.exited() {
			return message{}, p.why()
		}
		return message{}, fmt.Errorf("send to the harness process: %w", err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-p.done:
		return message{}, p.why()
	case <-ctx.Done():
		_ = p.send(message{Op: opCancel, ID: id})
		select {
		case r := <-ch:
			return r, nil
		case <-p.done:
			return message{}, p.why()
		case <-time.After(2 * time.Second):
			return message{}, ctx.Err()
		}
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) why() error {
	if p == nil {
		return ErrWorkerDied
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return ErrWorkerDied
	}
	return p.err
}

// kill ends the worker and its process group and waits for it.
func (p *proc) kill() {
	_ = p.in.Close()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// headBuffer keeps the first max bytes written to it: a dying Go or
// Starlark process says why first, then dumps its goroutines.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *headBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - len(t.b); room > 0 {
		t.b = append(t.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (t *headBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
