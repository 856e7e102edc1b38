package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
)

// PolicyModel is the model name that routes to the current task model.
const PolicyModel = "policy"

// Defaults applied by Config.applyDefaults.
const (
	DefaultMaxConcurrent   = 64
	DefaultMaxUntagged     = 1000
	DefaultStreamKeepAlive = 15 * time.Second
	DefaultMaxBodyBytes    = 16 << 20
)

// Config configures a Gateway; the zero value is usable.
type Config struct {
	// Run names the run; a tag naming another run is treated as untagged.
	Run string
	// MaxConcurrent bounds the calls in flight to the upstream model; 0
	// means DefaultMaxConcurrent. Callers beyond it wait (or give up when
	// their context ends).
	MaxConcurrent int
	// MaxUntagged bounds the untagged call log; 0 means DefaultMaxUntagged.
	// Older entries are dropped first and counted.
	MaxUntagged int
	// StreamKeepAlive is how long a streaming call waits for the upstream
	// before the stream starts with an SSE comment (and repeats it); 0
	// means DefaultStreamKeepAlive.
	StreamKeepAlive time.Duration
	// StrictModel refuses model names other than "policy" and the current
	// upstream name; by default every name routes to the policy, since the
	// gateway serves exactly one model.
	StrictModel bool
	// NoLogprobs stops the gateway from asking the upstream for logprobs
	// on every call (it asks by default: the weights lever needs them).
	NoLogprobs bool
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one debug line per call; nil discards.
	Logger *slog.Logger
}

func (c *Config) applyDefaults() {
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.MaxUntagged <= 0 {
		c.MaxUntagged = DefaultMaxUntagged
	}
	if c.StreamKeepAlive <= 0 {
		c.StreamKeepAlive = DefaultStreamKeepAlive
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Policy is what a route serves: the task model of one rollout.
type Policy struct {
	Model llm.Model
	// Version is the adapter version (0 = base) written into each call's
	// trajectory.
	Version int
	// Name is the model name sent upstream (e.g. vLLM's "policy-v0007");
	// "" keeps Model's own.
	Name string
}

type sampleKey struct {
	item   string
	sample int
}

// UntaggedCall is a call that matched no registered sample.
type UntaggedCall struct {
	Tag    string // the raw tag as sent ("" when none)
	Reason string // why it is untagged
	Steps  []trajectory.Step
}

// Gateway routes and records task-model calls. It is safe for concurrent
// use. It serves nothing until a Route is opened: each route has its own
// key and its own policy, so two rollouts never share a mutable "current
// model".
type Gateway struct {
	cfg    Config
	sem    chan struct{}
	nextID atomic.Int64

	mu       sync.Mutex
	routes   map[[sha256.Size]byte]*Route // by the hash of their key
	untagged []UntaggedCall
	dropped  int
}

// New returns a gateway with no routes: every call is refused (401) until
// Route opens one.
func New(cfg Config) *Gateway {
	cfg.applyDefaults()
	return &Gateway{cfg: cfg, sem: make(chan struct{}, cfg.MaxConcurrent), routes: map[[sha256.Size]byte]*Route{}}
}

// Route is one rollout's way to the task model: a key of its own (what the
// harness sends as OPENAI_API_KEY), the policy it serves, which never
// changes, and the recorders of the samples registered on it. A route lives
// until Close or the gateway's end; a run opens a few per generation.
type Route struct {
	g      *Gateway
	key    string
	policy Policy

	mu   sync.Mutex
	recs map[sampleKey]*trajectory.Recorder
}

// Route opens a route serving p under a fresh random key.
func (g *Gateway) Route(p Policy) *Route {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	rt := &Route{g: g, key: "sia-" + hex.EncodeToString(b[:]), policy: p, recs: map[sampleKey]*trajectory.Recorder{}}
	g.mu.Lock()
	g.routes[sha256.Sum256([]byte(rt.key))] = rt
	g.mu.Unlock()
	return rt
}

// route finds the open route of a key.
func (g *Gateway) route(key string) (*Route, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rt, ok := g.routes[sha256.Sum256([]byte(key))]
	return rt, ok
}

// Key is the key clients of this route present (pass it as OPENAI_API_KEY).
func (rt *Route) Key() string { return rt.key }

// Policy is what the route serves.
func (rt *Route) Policy() Policy { return rt.policy }

// Close revokes the route's key: later calls with it are refused (401).
// Calls in flight finish.
func (rt *Route) Close() {
	rt.g.mu.Lock()
	delete(rt.g.routes, sha256.Sum256([]byte(rt.key)))
	rt.g.mu.Unlock()
}

// Register routes calls tagged (item, sample) on this route into rec until
// unregister is called. Registering the same sample again replaces the
// recorder.
func (rt *Route) Register(item string, sample int, rec *trajectory.Recorder) (unregister func()) {
	k := sampleKey{item, sample}
	rt.mu.Lock()
	rt.recs[k] = rec
	rt.mu.Unlock()
	return func() {
		rt.mu.Lock()
		if rt.recs[k] == rec {
			delete(rt.recs, k)
		}
		rt.mu.Unlock()
	}
}

// recorder is the recorder registered for a sample, nil when none.
func (rt *Route) recorder(k sampleKey) *trajectory.Recorder {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.recs[k]
}

// Untagged returns the calls that matched no registered sample, oldest
// first, and how many older ones were dropped to respect MaxUntagged.
func (g *Gateway) Untagged() (calls []UntaggedCall, dropped int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]UntaggedCall(nil), g.untagged...), g.dropped
}

// Model is the in-process view of the route for one sample: the same
// policy, concurrency bound and recording as an HTTP call tagged (item,
// sample), without HTTP.
func (rt *Route) Model(item string, sample int) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		return rt.g.call(ctx, rt, callTag{tag: Tag{Item: item, Sample: sample, Gen: -1}, ok: true, raw: FormatTag(item, sample)}, req)
	})
}

// callTag is a parsed tag plus what was sent.
type callTag struct {
	tag Tag
	ok  bool
	raw string
	err error // a malformed tag
}

// errNoPolicy is returned by a route with no task model.
var errNoPolicy = errors.New("no policy model is set")

// call is the one path every model call takes.
func (g *Gateway) call(ctx context.Context, rt *Route, t callTag, req llm.Request) (*llm.Completion, error) {
	p := rt.policy
	if p.Model == nil {
		return nil, errNoPolicy
	}
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	up := req
	if p.Name != "" {
		up.Model = p.Name
	} else {
		up.Model = ""
	}
	if !g.cfg.NoLogprobs {
		up.Logprobs = true
	}
	start := time.Now()
	c, err := p.Model.Chat(ctx, up)
	<-g.sem
	if err == nil && c == nil {
		err = errors.New("upstream returned no completion")
	}
	if err == nil {
		c.AdapterVersion = p.Version
	}
	g.record(rt, t, req, c, err)
	g.cfg.Logger.Debug("gateway call", "item", t.tag.Item, "sample", t.tag.Sample, "adapter", p.Version,
		"ms", time.Since(start).Milliseconds(), "err", err)
	return c, err
}

// record writes the call into its sample's recorder, or the untagged log.
func (g *Gateway) record(rt *Route, t callTag, req llm.Request, c *llm.Completion, err error) {
	var rec *trajectory.Recorder
	reason := ""
	switch {
	case t.err != nil:
		reason = t.err.Error()
	case !t.ok:
		reason = "no tag"
	case g.cfg.Run != "" && t.tag.Run != "" && t.tag.Run != g.cfg.Run:
		reason = "tag names run " + t.tag.Run
	default:
		rec = rt.recorder(sampleKey{t.tag.Item, t.tag.Sample})
		if rec == nil {
			reason = "no sample registered for the tag"
		}
	}
	own := rec == nil
	if own {
		rec = trajectory.NewRecorder()
	}
	if err != nil {
		rec.Add(trajectory.Step{Kind: trajectory.KindError, Text: "model call: " + err.Error()})
	} else {
		rec.AddCompletion(req, c)
	}
	if !own {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.untagged = append(g.untagged, UntaggedCall{Tag: t.raw, Reason: reason, Steps: rec.Steps()})
	if over := len(g.untagged) - g.cfg.MaxUntagged; over > 0 {
		g.untagged = append(g.untagged[:0:0], g.untagged[over:]...)
		g.dropped += over
	}
}
