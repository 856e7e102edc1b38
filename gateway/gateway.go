package gateway

import (
	"context"
	"crypto/rand"
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
	// APIKey is the key clients must send as a Bearer token; "" generates
	// a random per-gateway key (see Gateway.APIKey).
	APIKey string
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

// policy is one immutable routing target; SetPolicy swaps the pointer.
type policy struct {
	model   llm.Model
	version int
	name    string
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

// Gateway routes and records task-model calls. It is safe for concurrent use.
type Gateway struct {
	cfg    Config
	key    string
	policy atomic.Pointer[policy]
	sem    chan struct{}
	nextID atomic.Int64

	mu       sync.Mutex
	recs     map[sampleKey]*trajectory.Recorder
	untagged []UntaggedCall
	dropped  int
}

// New returns a gateway with no policy set: calls fail with 503 until
// SetPolicy is called.
func New(cfg Config) *Gateway {
	cfg.applyDefaults()
	g := &Gateway{cfg: cfg, key: cfg.APIKey, sem: make(chan struct{}, cfg.MaxConcurrent), recs: map[sampleKey]*trajectory.Recorder{}}
	if g.key == "" {
		var b [24]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		g.key = "sia-" + hex.EncodeToString(b[:])
	}
	return g
}

// APIKey is the key clients must present (pass it as OPENAI_API_KEY).
func (g *Gateway) APIKey() string { return g.key }

// SetPolicy routes "policy" to m from now on. version is the adapter version
// (0 = base) written into each call's trajectory; name is the model name
// sent upstream (e.g. vLLM's "policy-v0007"; "" keeps m's own model).
func (g *Gateway) SetPolicy(m llm.Model, version int, name string) {
	g.policy.Store(&policy{model: m, version: version, name: name})
}

// Policy reports the current adapter version and upstream name.
func (g *Gateway) Policy() (version int, name string, ok bool) {
	p := g.policy.Load()
	if p == nil || p.model == nil {
		return 0, "", false
	}
	return p.version, p.name, true
}

// Register routes calls tagged (item, sample) into rec until unregister is
// called. Registering the same sample again replaces the recorder.
func (g *Gateway) Register(item string, sample int, rec *trajectory.Recorder) (unregister func()) {
	k := sampleKey{item, sample}
	g.mu.Lock()
	g.recs[k] = rec
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		if g.recs[k] == rec {
			delete(g.recs, k)
		}
		g.mu.Unlock()
	}
}

// Untagged returns the calls that matched no registered sample, oldest
// first, and how many older ones were dropped to respect MaxUntagged.
func (g *Gateway) Untagged() (calls []UntaggedCall, dropped int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]UntaggedCall(nil), g.untagged...), g.dropped
}

// Model is the in-process view of the gateway for one sample: the same
// routing, concurrency bound and recording as an HTTP call tagged (item,
// sample), without HTTP.
func (g *Gateway) Model(item string, sample int) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		return g.call(ctx, callTag{tag: Tag{Item: item, Sample: sample, Gen: -1}, ok: true, raw: FormatTag(item, sample)}, req)
	})
}

// callTag is a parsed tag plus what was sent.
type callTag struct {
	tag Tag
	ok  bool
	raw string
	err error // a malformed tag
}

// errNoPolicy is returned while no policy is set.
var errNoPolicy = errors.New("no policy model is set")

// call is the one path every model call takes.
func (g *Gateway) call(ctx context.Context, t callTag, req llm.Request) (*llm.Completion, error) {
	p := g.policy.Load()
	if p == nil || p.model == nil {
		return nil, errNoPolicy
	}
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	up := req
	if p.name != "" {
		up.Model = p.name
	} else {
		up.Model = ""
	}
	if !g.cfg.NoLogprobs {
		up.Logprobs = true
	}
	start := time.Now()
	c, err := p.model.Chat(ctx, up)
	<-g.sem
	if err == nil && c == nil {
		err = errors.New("upstream returned no completion")
	}
	if err == nil {
		c.AdapterVersion = p.version
	}
	g.record(t, req, c, err)
	g.cfg.Logger.Debug("gateway call", "item", t.tag.Item, "sample", t.tag.Sample, "adapter", p.version,
		"ms", time.Since(start).Milliseconds(), "err", err)
	return c, err
}

// record writes the call into its sample's recorder, or the untagged log.
func (g *Gateway) record(t callTag, req llm.Request, c *llm.Completion, err error) {
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
		g.mu.Lock()
		rec = g.recs[sampleKey{t.tag.Item, t.tag.Sample}]
		g.mu.Unlock()
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
