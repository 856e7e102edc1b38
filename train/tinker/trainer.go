package tinker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/train/internal/trainset"
)

// DefaultBaseURL is the hosted Tinker service.
const DefaultBaseURL = "https://tinker.thinkingmachines.dev/services/tinker-prod"

// OAIBaseURL is the OpenAI-compatible sampling endpoint of a Tinker
// deployment; use it as an OpenAI base URL with model = Result.Name.
func OAIBaseURL(baseURL string) string {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return strings.TrimRight(baseURL, "/") + "/oai/api/v1"
}

// Loss function names of the service.
const (
	LossImportanceSampling = "importance_sampling"
	LossPPO                = "ppo"
	LossCrossEntropy       = "cross_entropy"
)

// Config configures a Trainer. Zero values take the documented defaults;
// BaseModel is required.
type Config struct {
	// BaseURL of the service (default DefaultBaseURL; a SkyRL-tx server is
	// e.g. http://gpu-box:8000). A trailing slash is dropped.
	BaseURL string
	// APIKey is sent as X-API-Key (SkyRL-tx checks none).
	APIKey string
	// BaseModel is the model to put the LoRA on, e.g. openai/gpt-oss-120b.
	BaseModel string
	// Rank is the LoRA rank (default 32).
	Rank int
	// TrainMLP, TrainAttn and TrainUnembed choose where LoRA goes; nil means
	// true, the SDK default.
	TrainMLP, TrainAttn, TrainUnembed *bool
	// PolicyLoss is the loss for grpo, entropic and reinforce_kl:
	// "importance_sampling" (default) or "ppo" with ClipLow/ClipHigh.
	PolicyLoss string
	// ClipLow and ClipHigh are ppo's absolute ratio bounds (default 0.8, 1.2).
	ClipLow, ClipHigh float64
	// Adam holds the optimizer parameters; zero fields take the SDK defaults
	// (learning rate 1e-4, β1 0.9, β2 0.95, ε 1e-12).
	Adam AdamParams
	// Steps is the number of forward_backward + optim_step rounds over the
	// generation's data (default 1).
	Steps int
	// KLCoef is β of reinforce_kl's per-token KL-to-base penalty (default
	// 0.05; negative disables it).
	KLCoef float64
	// EntropicBeta is β of entropic weighting (default 5).
	EntropicBeta float64
	// SkipDownload leaves the adapter on the service: Result.AdapterDir then
	// holds only tinker.json, and serving goes through OAIBaseURL.
	SkipDownload bool
	// FutureTimeout bounds each operation, submission to result (default 30 min).
	FutureTimeout time.Duration
	// PollTimeout is the HTTP timeout of one retrieve_future call (default
	// 45 s, as the SDK).
	PollTimeout time.Duration
	// PollInterval is the pause after a pending answer (408 or try_again)
	// before polling again (default 250 ms).
	PollInterval time.Duration
	// RetryBase and RetryMax bound the exponential backoff of retried
	// submissions (defaults 500 ms and 30 s).
	RetryBase, RetryMax time.Duration
	// Wire is the forward_backward body: "auto" (default: binary when the
	// server's client/config sets proto_write_fwdbwd, as the SDK does),
	// "json" or "protobuf".
	Wire string
	// BillingPause bounds how long HTTP 402 (billing) answers are waited
	// out before a run fails (default: the server's
	// billing_exception_max_pause_duration_sec, else 1 h, as the SDK).
	BillingPause time.Duration
	// Tags label the session (default ["sia"]).
	Tags []string
	// HTTPClient defaults to a client without an overall timeout (each
	// call has its own context).
	HTTPClient *http.Client
	// OnEvent receives progress.
	OnEvent func(Event)
}

// Event reports training progress.
type Event struct {
	Kind    string // config, session, model, loaded, optim_step, saved, downloaded, billing_pause, rate_limited
	Step    int
	Message string
	Metrics map[string]float64
}

func (c *Config) applyDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Rank == 0 {
		c.Rank = 32
	}
	if c.PolicyLoss == "" {
		c.PolicyLoss = LossImportanceSampling
	}
	if c.ClipLow == 0 {
		c.ClipLow = 0.8
	}
	if c.ClipHigh == 0 {
		c.ClipHigh = 1.2
	}
	if c.Adam.LearningRate == 0 {
		c.Adam.LearningRate = 1e-4
	}
	if c.Adam.Beta1 == 0 {
		c.Adam.Beta1 = 0.9
	}
	if c.Adam.Beta2 == 0 {
		c.Adam.Beta2 = 0.95
	}
	if c.Adam.Eps == 0 {
		c.Adam.Eps = 1e-12
	}
	if c.Steps == 0 {
		c.Steps = 1
	}
	if c.KLCoef == 0 {
		c.KLCoef = 0.05
	}
	if c.FutureTimeout == 0 {
		c.FutureTimeout = 30 * time.Minute
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = 45 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.RetryBase == 0 {
		c.RetryBase = 500 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.Tags == nil {
		c.Tags = []string{"sia"}
	}
	if c.Wire == "" {
		c.Wire = WireAuto
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
}

func (c *Config) validate() error {
	if c.BaseModel == "" {
		return errors.New("tinker: base model is required")
	}
	if c.Rank < 0 {
		return fmt.Errorf("tinker: rank must be positive, got %d", c.Rank)
	}
	if c.PolicyLoss != LossImportanceSampling && c.PolicyLoss != LossPPO {
		return fmt.Errorf("tinker: policy loss %q: want %s or %s", c.PolicyLoss, LossImportanceSampling, LossPPO)
	}
	if !(0 <= c.ClipLow && c.ClipLow <= 1 && c.ClipHigh >= 1) {
		return fmt.Errorf("tinker: clip thresholds must satisfy 0 ≤ low ≤ 1 ≤ high, got %g, %g", c.ClipLow, c.ClipHigh)
	}
	if c.Steps < 0 {
		return fmt.Errorf("tinker: steps must be positive, got %d", c.Steps)
	}
	switch c.Wire {
	case WireAuto, WireJSON, WireProtobuf:
	default:
		return fmt.Errorf("tinker: wire %q: want auto, json or protobuf", c.Wire)
	}
	return nil
}

// Wire formats of forward_backward.
const (
	WireAuto     = "auto"
	WireJSON     = "json"
	WireProtobuf = "protobuf"
)

// Trainer trains one LoRA on the service across generations: the training
// model is created on the first Train call and reused after, so the Adam
// state carries over. Train calls are serialised.
type Trainer struct {
	cfg Config
	c   *client

	mu        sync.Mutex
	sessionID string
	modelID   string
	seq       int // last seq_id sent for modelID
}

var _ train.Trainer = (*Trainer)(nil)

// New checks cfg and returns a Trainer. It contacts nothing: the session
// and model are created by the first Train call.
func New(ctx context.Context, cfg Config) (*Trainer, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Trainer{cfg: cfg, c: &client{cfg: &cfg, http: cfg.HTTPClient}}, nil
}

// unsupported explains why an algorithm cannot run on the service.
func unsupported(alg rl.Algorithm) error {
	switch alg {
	case rl.PPO:
		return fmt.Errorf("tinker: %w: ppo with GAE needs a value head, which the Tinker API does not train; use --trainer command with verl (docs/trainers/verl-ppo.md), or choose grpo/reinforce_kl", train.ErrUnsupported)
	case rl.DPO:
		return fmt.Errorf("tinker: %w: dpo needs a pairwise loss the Tinker API has no built-in for; use --trainer command with TRL's DPOTrainer (docs/trainers/trl.md)", train.ErrUnsupported)
	}
	return nil
}

// Supports reports whether the backend can run alg (nil) or why not.
func (t *Trainer) Supports(alg rl.Algorithm) error { return unsupported(alg) }

func (t *Trainer) emit(e Event) {
	if t.cfg.OnEvent != nil {
		t.cfg.OnEvent(e)
	}
}

func (t *Trainer) nextSeq() int {
	t.seq++
	return t.seq
}

// State is written to <OutDir>/tinker.json: what a resumed run needs to
// continue training and to sample the adapter.
type State struct {
	FormatVersion int    `json:"format_version"`
	BaseURL       string `json:"base_url"`
	BaseModel     string `json:"base_model"`
	SessionID     string `json:"session_id"`
	ModelID       string `json:"model_id"`
	Version       int    `json:"version"`
	Rank          int    `json:"rank"`
	// StatePath is the training checkpoint (weights and Adam state).
	StatePath string `json:"state_path"`
	// SamplerPath is the sampler checkpoint; it is the OpenAI model name.
	SamplerPath string `json:"sampler_path"`
}

// StateFile is the name of the state file inside an adapter folder.
const StateFile = "tinker.json"

// Train runs one weight update on the service.
func (t *Trainer) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	if err := unsupported(req.Algorithm); err != nil {
		return nil, err
	}
	if req.OutDir == "" {
		return nil, errors.New("tinker train: request has no output folder")
	}
	set, err := trainset.Build(req.Rollouts, req.Algorithm, reward.Params{EntropicBeta: t.cfg.EntropicBeta})
	if err != nil {
		return nil, fmt.Errorf("tinker train: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureModel(ctx, req); err != nil {
		return nil, err
	}
	metrics := map[string]float64{"examples": float64(len(set.Examples)), "untrainable_samples": float64(set.Untrainable)}
	var ref map[int][]float64
	if req.Algorithm == rl.ReinforceKL && t.cfg.KLCoef > 0 {
		if ref, err = t.refLogprobs(ctx, set.Examples); err != nil {
			return nil, err
		}
	}
	data, lossFn, stats := t.datums(set, ref)
	for k, v := range stats {
		metrics[k] = v
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("tinker train: every example has zero advantage (%s): %w", set, train.ErrNothingToTrain)
	}
	var cfg map[string]float64
	if lossFn == LossPPO {
		cfg = map[string]float64{"clip_low_threshold": t.cfg.ClipLow, "clip_high_threshold": t.cfg.ClipHigh}
	}
	metricsLog, err := openMetrics(req.MetricsPath)
	if err != nil {
		return nil, err
	}
	defer metricsLog.close()
	for step := 1; step <= t.cfg.Steps; step++ {
		fb, err := t.forwardBackward(ctx, data, lossFn, cfg)
		if err != nil {
			return nil, fmt.Errorf("tinker train step %d: %w", step, err)
		}
		var opt optimStepResult
		if err := t.c.operation(ctx, "optim_step", "OptimStep", optimStepRequest{
			AdamParams: t.cfg.Adam, ModelID: t.modelID, SeqID: t.nextSeq(), Type: "optim_step",
		}, &opt); err != nil {
			return nil, fmt.Errorf("tinker train step %d: %w", step, err)
		}
		line := map[string]float64{"step": float64(step), "datums": float64(len(data))}
		for k, v := range fb {
			line[k] = v
			metrics[k] = v
		}
		for k, v := range opt.Metrics {
			line["optim/"+k] = v
			metrics["optim/"+k] = v
		}
		metricsLog.write(line)
		t.emit(Event{Kind: "optim_step", Step: step, Metrics: line})
	}
	metrics["steps"] = float64(t.cfg.Steps)
	st, err := t.save(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("tinker train: create output folder: %w", err)
	}
	if !t.cfg.SkipDownload {
		if err := t.download(ctx, st.SamplerPath, req.OutDir); err != nil {
			return nil, err
		}
		t.emit(Event{Kind: "downloaded", Message: req.OutDir})
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(filepath.Join(req.OutDir, StateFile), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("tinker train: write state: %w", err)
	}
	return &train.Result{Version: req.Version, AdapterDir: req.OutDir, Name: st.SamplerPath, Metrics: metrics}, nil
}

// ensureModel creates the session and the LoRA training model on first use.
// A trainer that starts on a run with a parent adapter (a resumed run)
// restores the parent's training checkpoint into the new model.
func (t *Trainer) ensureModel(ctx context.Context, req train.Request) error {
	if t.modelID != "" {
		return nil
	}
	if t.sessionID == "" {
		if err := t.fetchServerConfig(ctx); err != nil {
			return err
		}
		var s createSessionResponse
		if err := t.c.post(ctx, "create_session", createSessionRequest{
			Tags: t.cfg.Tags, UserMetadata: map[string]string{"run": req.Run}, SDKVersion: SDKVersion, Type: "create_session",
		}, &s); err != nil {
			return fmt.Errorf("tinker create session: %w", err)
		}
		if s.SessionID == "" {
			return errors.New("tinker create session: reply carries no session_id")
		}
		if s.ErrorMessage != "" {
			return fmt.Errorf("tinker create session: %s", s.ErrorMessage)
		}
		t.sessionID = s.SessionID
		t.emit(Event{Kind: "session", Message: s.SessionID + " " + s.WarningMessage})
	}
	yes := func(p *bool) bool { return p == nil || *p }
	seed := req.Seed
	var res createModelResult
	if err := t.c.operation(ctx, "create_model", "CreateModel", createModelRequest{
		SessionID: t.sessionID, ModelSeqID: 0, BaseModel: t.cfg.BaseModel,
		UserMetadata: map[string]string{"run": req.Run},
		LoraConfig: loraConfig{Rank: t.cfg.Rank, Seed: &seed,
			TrainUnembed: yes(t.cfg.TrainUnembed), TrainMLP: yes(t.cfg.TrainMLP), TrainAttn: yes(t.cfg.TrainAttn)},
		Type: "create_model",
	}, &res); err != nil {
		return fmt.Errorf("tinker create model: %w", err)
	}
	if res.ModelID == "" {
		return errors.New("tinker create model: result carries no model_id")
	}
	t.modelID, t.seq = res.ModelID, 0
	t.emit(Event{Kind: "model", Message: res.ModelID})
	if req.Parent == "" || req.ParentVersion == 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(req.Parent, StateFile))
	if err != nil {
		return fmt.Errorf("tinker: parent adapter v%d has no %s to resume from (was it trained by another backend?): %w", req.ParentVersion, StateFile, err)
	}
	var parent State
	if err := json.Unmarshal(b, &parent); err != nil || parent.StatePath == "" {
		return fmt.Errorf("tinker: parent %s: no state_path (%v)", StateFile, err)
	}
	if err := t.c.operation(ctx, "load_weights", "LoadWeights", loadWeightsRequest{
		ModelID: t.modelID, Path: parent.StatePath, SeqID: t.nextSeq(), Optimizer: true, Type: "load_weights",
	}, nil); err != nil {
		return fmt.Errorf("tinker load parent state %s: %w", parent.StatePath, err)
	}
	t.emit(Event{Kind: "loaded", Message: parent.StatePath})
	return nil
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// save writes a training checkpoint (to resume) and a sampler checkpoint.
// Names must match ^[a-zA-Z0-9_-]+$.
func (t *Trainer) save(ctx context.Context, req train.Request) (*State, error) {
	base := unsafeName.ReplaceAllString(fmt.Sprintf("sia-%s-gen%03d-v%04d", req.Run, req.Gen, req.Version), "_")
	var state, sampler pathResult
	if err := t.c.operation(ctx, "save_weights", "SaveWeights", saveWeightsRequest{
		ModelID: t.modelID, Path: base, SeqID: t.nextSeq(), Type: "save_weights",
	}, &state); err != nil {
		return nil, fmt.Errorf("tinker save weights: %w", err)
	}
	if err := t.c.operation(ctx, "save_weights_for_sampler", "SaveWeightsForSampler", saveWeightsRequest{
		ModelID: t.modelID, Path: base + "-sampler", SeqID: t.nextSeq(), Type: "save_weights_for_sampler",
	}, &sampler); err != nil {
		return nil, fmt.Errorf("tinker save weights for sampler: %w", err)
	}
	if !strings.HasPrefix(sampler.Path, "tinker://") {
		return nil, fmt.Errorf("tinker save weights for sampler: path %q is not a tinker:// path", sampler.Path)
	}
	t.emit(Event{Kind: "saved", Message: sampler.Path})
	return &State{FormatVersion: 1, BaseURL: t.cfg.BaseURL, BaseModel: t.cfg.BaseModel, SessionID: t.sessionID,
		ModelID: t.modelID, Version: req.Version, Rank: t.cfg.Rank, StatePath: state.Path, SamplerPath: sampler.Path}, nil
}

// maxChunk is the SDK's limit of datums per forward_backward request.
const maxChunk = 128

// forwardBackward sends data in chunks and sums the results' metrics
// (keys ending in ":sum" add up; others are averaged over chunks).
func (t *Trainer) forwardBackward(ctx context.Context, data []datum, lossFn string, cfg map[string]float64) (map[string]float64, error) {
	out := map[string]float64{}
	counts := map[string]int{}
	for lo := 0; lo < len(data); lo += maxChunk {
		hi := min(lo+maxChunk, len(data))
		var res forwardBackwardOutput
		p, err := t.fwdBwdPayload(forwardBackwardRequest{
			ForwardBackwardInput: forwardBackwardInput{Data: data[lo:hi], LossFn: lossFn, LossFnConfig: cfg},
			ModelID:              t.modelID, SeqID: t.nextSeq(),
		})
		if err != nil {
			return nil, err
		}
		if err := t.c.operationPayload(ctx, "forward_backward", "ForwardBackward", p, &res); err != nil {
			return nil, err
		}
		if len(res.LossFnOutputs) != hi-lo {
			return nil, fmt.Errorf("tinker forward_backward: %d outputs for %d datums", len(res.LossFnOutputs), hi-lo)
		}
		for k, v := range res.Metrics {
			out[k] += v
			counts[k]++
		}
	}
	for k, n := range counts {
		if !strings.HasSuffix(k, ":sum") && n > 1 {
			out[k] /= float64(n)
		}
	}
	return out, nil
}
