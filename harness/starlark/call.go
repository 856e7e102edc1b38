package starlark

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	sl "go.starlark.net/starlark"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
)

const localKey = "sia.call"

// callState is what one Starlark thread (one setup or one solve call) may
// reach: it lives in the thread's locals, never in shared values.
type callState struct {
	ctx    context.Context
	model  llm.Model // nil when no model is configured
	rec    *trajectory.Recorder
	seed   int64
	calls  int64 // model calls so far, for per-call seeds
	public fs.FS
	// logf receives log() lines when there is no recorder (setup).
	logf func(string)
}

func stateOf(thread *sl.Thread) *callState {
	if s, ok := thread.Local(localKey).(*callState); ok {
		return s
	}
	// Threads are made only by this package, always with a state; an
	// empty one keeps a stray call from panicking.
	return &callState{ctx: context.Background()}
}

func (s *callState) log(text string) {
	if s.rec != nil {
		s.rec.Log(text)
		return
	}
	if s.logf != nil {
		s.logf(text)
	}
}

// nextSeed returns the sampling seed of the next model call: a mix of the
// sample seed and the call index, so reruns sample identically and
// successive calls differ.
func (s *callState) nextSeed() int64 {
	s.calls++
	return int64(splitmix64(uint64(s.seed) + uint64(s.calls)*0x9e3779b97f4a7c15))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// limits bound one call into Starlark.
type limits struct {
	steps   uint64
	timeout time.Duration
	what    string // "setup", "solve", "top level"
}

// ErrStepLimit is wrapped by errors from a call that ran out of steps.
var ErrStepLimit = errors.New("step limit exceeded")

// run calls fn under the limits on a fresh thread holding st. The thread is
// cancelled when ctx ends or the wall-clock limit passes; nothing started
// here outlives the call. A panic in a builtin becomes an error.
func run(ctx context.Context, lim limits, st *callState, fn func(*sl.Thread) (sl.Value, error)) (v sl.Value, err error) {
	if lim.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, lim.timeout, fmt.Errorf("%s: wall-clock limit %s: %w", lim.what, lim.timeout, context.DeadlineExceeded))
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", lim.what, context.Cause(ctx))
	}
	st.ctx = ctx
	thread := &sl.Thread{
		Name:  lim.what,
		Print: func(_ *sl.Thread, msg string) { st.log(msg) },
		Load: func(_ *sl.Thread, module string) (sl.StringDict, error) {
			return nil, fmt.Errorf("load(%q): load is not available; every module is predeclared", module)
		},
	}
	thread.SetLocal(localKey, st)
	thread.SetMaxExecutionSteps(lim.steps)
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%s: internal error in a builtin: %v", lim.what, r)
		}
	}()
	v, err = fn(thread)
	if err == nil {
		return v, nil
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: stopped: %w", lim.what, context.Cause(ctx))
	case lim.steps > 0 && thread.ExecutionSteps() >= lim.steps:
		return nil, fmt.Errorf("%s: %w (%d steps)", lim.what, ErrStepLimit, lim.steps)
	}
	return nil, fmt.Errorf("%s: %w", lim.what, withBacktrace(err))
}

// backtraceError keeps the cause (for errors.Is) and shows the Starlark
// backtrace, which is what a harness author needs to fix the code.
type backtraceError struct {
	msg   string
	cause error
}

func (e *backtraceError) Error() string { return e.msg }
func (e *backtraceError) Unwrap() error { return e.cause }

func withBacktrace(err error) error {
	var ee *sl.EvalError
	if !errors.As(err, &ee) {
		return err
	}
	bt := strings.TrimSpace(ee.Backtrace())
	return &backtraceError{msg: bt, cause: err}
}
