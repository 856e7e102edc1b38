package command

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/train/internal/trainset"
)

// Hyper are the hyperparameters written to config.json for the external
// trainer to read. Zero values take the defaults noted.
type Hyper struct {
	LearningRate float64 `json:"learning_rate"` // default 1e-5
	Epochs       int     `json:"epochs"`        // default 1
	BatchSize    int     `json:"batch_size"`    // default 8
	KLCoef       float64 `json:"kl_coef"`       // reinforce_kl and ppo; default 0.05
	ClipEps      float64 `json:"clip_eps"`      // PPO ratio clip ε; default 0.2
	DPOBeta      float64 `json:"dpo_beta"`      // default 0.1
	// DPONLL weights the NLL term on DPO's chosen completions (RPO; TRL's
	// rpo_alpha); default 0: plain DPO.
	DPONLL       float64 `json:"dpo_nll"`
	EntropicBeta float64 `json:"entropic_beta"` // default 5
	GAEGamma     float64 `json:"gae_gamma"`     // default 1
	GAELambda    float64 `json:"gae_lambda"`    // default 1
}

// Config configures a Trainer. Command is required.
type Config struct {
	// Command is the shell command template (see the package doc for the
	// placeholders), e.g.
	//   accelerate launch docs/trainers/trl_train.py --data {data} --config {config} --out {out}
	Command string
	// Shell runs the command (default /bin/sh, with -c).
	Shell string
	// Dir is the command's working directory (default: the work folder).
	Dir string
	// WorkDir holds data.jsonl, config.json and train.log (default:
	// <folder of the request's OutDir>/trainer).
	WorkDir string
	// Env is added to the command's environment (KEY=value).
	Env []string
	// Timeout bounds one run (default 2 h).
	Timeout time.Duration
	// KillGrace is the pause between SIGTERM and SIGKILL (default 10 s).
	KillGrace time.Duration
	// BaseModel is the Hugging Face id or path of the task model.
	BaseModel string
	// Rank and Alpha of the LoRA to train (defaults 32 and 2·Rank);
	// TargetModules defaults to all attention and MLP projections of a
	// Llama/Qwen/gpt-oss style model. The adapter must come back with this
	// rank.
	Rank          int
	Alpha         float64
	TargetModules []string
	// MaxRank is the serving engine's --max-lora-rank (0: unchecked).
	MaxRank int
	Hyper   Hyper
	// OnLog receives each line the command prints.
	OnLog func(line string)
}

func (c *Config) applyDefaults() {
	if c.Shell == "" {
		c.Shell = "/bin/sh"
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Hour
	}
	if c.KillGrace == 0 {
		c.KillGrace = 10 * time.Second
	}
	if c.Rank == 0 {
		c.Rank = 32
	}
	if c.Alpha == 0 {
		c.Alpha = 2 * float64(c.Rank)
	}
	if c.TargetModules == nil {
		c.TargetModules = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
	}
	h := &c.Hyper
	if h.LearningRate == 0 {
		h.LearningRate = 1e-5
	}
	if h.Epochs == 0 {
		h.Epochs = 1
	}
	if h.BatchSize == 0 {
		h.BatchSize = 8
	}
	if h.KLCoef == 0 {
		h.KLCoef = 0.05
	}
	if h.ClipEps == 0 {
		h.ClipEps = 0.2
	}
	if h.DPOBeta == 0 {
		h.DPOBeta = 0.1
	}
	if h.EntropicBeta == 0 {
		h.EntropicBeta = 5
	}
	if h.GAEGamma == 0 {
		h.GAEGamma = 1
	}
	if h.GAELambda == 0 {
		h.GAELambda = 1
	}
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

var placeholders = map[string]bool{
	"data": true, "config": true, "out": true, "workdir": true, "parent": true, "algorithm": true,
	"gen": true, "version": true, "run": true, "base_model": true, "seed": true,
}

func (c *Config) validate() error {
	if strings.TrimSpace(c.Command) == "" {
		return errors.New("command trainer: the command template is empty")
	}
	for _, m := range placeholder.FindAllStringSubmatch(c.Command, -1) {
		if !placeholders[m[1]] {
			return fmt.Errorf("command trainer: unknown placeholder {%s} (known: data config out workdir parent algorithm gen version run base_model seed)", m[1])
		}
	}
	if c.Rank < 0 || c.Alpha < 0 || c.Timeout < 0 {
		return errors.New("command trainer: rank, alpha and timeout must be positive")
	}
	if c.MaxRank > 0 && c.Rank > c.MaxRank {
		return fmt.Errorf("command trainer: rank %d exceeds the server's max LoRA rank %d", c.Rank, c.MaxRank)
	}
	return nil
}

// Trainer runs the external command once per weight update.
type Trainer struct{ cfg Config }

var _ train.Trainer = (*Trainer)(nil)

// New checks cfg and returns a Trainer.
func New(cfg Config) (*Trainer, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Trainer{cfg: cfg}, nil
}

// JobConfig is config.json, what the external trainer reads.
type JobConfig struct {
	FormatVersion int          `json:"format_version"`
	Run           string       `json:"run"`
	Gen           int          `json:"gen"`
	Version       int          `json:"version"`
	Algorithm     rl.Algorithm `json:"algorithm"`
	// AdvantageEstimator says where advantages come from: "precomputed"
	// (the data's advantage field), "gae" (the trainer's critic, for ppo) or
	// "pairs" (dpo).
	AdvantageEstimator string `json:"advantage_estimator"`
	BaseModel          string `json:"base_model"`
	// ParentAdapter is the PEFT folder to continue from ("" = from the base).
	ParentAdapter string `json:"parent_adapter"`
	Data          string `json:"data"`
	Out           string `json:"out"`
	Seed          int64  `json:"seed"`
	LoRA          struct {
		R             int      `json:"r"`
		Alpha         float64  `json:"lora_alpha"`
		TargetModules []string `json:"target_modules"`
	} `json:"lora"`
	Hyper  Hyper `json:"hyper"`
	Counts struct {
		Samples  int `json:"samples"`
		Items    int `json:"items"`
		Examples int `json:"examples"`
		Pairs    int `json:"pairs"`
	} `json:"counts"`
}

// sampleLine and pairLine are the two data.jsonl records. They are separate
// types because Example and Pair share field names, which encoding/json
// would drop if both were embedded in one struct.
type sampleLine struct {
	Type string `json:"type"` // "sample"
	trainset.Example
}

type pairLine struct {
	Type string `json:"type"` // "pair"
	trainset.Pair
}

// Train writes the data and config, runs the command and accepts the
// adapter it wrote.
func (t *Trainer) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	if req.OutDir == "" {
		return nil, errors.New("command trainer: request has no output folder")
	}
	if _, err := os.Stat(req.OutDir); err == nil {
		return nil, fmt.Errorf("command trainer: output folder %s already exists", req.OutDir)
	}
	set, err := trainset.Build(req.Rollouts, req.Algorithm, reward.Params{EntropicBeta: t.cfg.Hyper.EntropicBeta})
	if err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	work := t.cfg.WorkDir
	if work == "" {
		work = filepath.Join(filepath.Dir(filepath.Clean(req.OutDir)), "trainer")
	}
	if work, err = filepath.Abs(work); err != nil {
		return nil, fmt.Errorf("command trainer: work folder: %w", err)
	}
	staging, err := filepath.Abs(req.OutDir + ".staging")
	if err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	if err := os.RemoveAll(staging); err != nil {
		return nil, fmt.Errorf("command trainer: clear staging folder: %w", err)
	}
	for _, d := range []string{work, staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("command trainer: %w", err)
		}
	}
	defer os.RemoveAll(staging)
	job, err := t.writeJob(work, staging, req, set)
	if err != nil {
		return nil, err
	}
	if err := t.run(ctx, work, req, job); err != nil {
		return nil, err
	}
	return t.collect(staging, req, set)
}

func (t *Trainer) writeJob(work, staging string, req train.Request, set *trainset.Set) (*JobConfig, error) {
	job := &JobConfig{FormatVersion: 1, Run: req.Run, Gen: req.Gen, Version: req.Version, Algorithm: req.Algorithm,
		AdvantageEstimator: "precomputed", BaseModel: t.cfg.BaseModel, Data: filepath.Join(work, "data.jsonl"),
		Out: staging, Seed: req.Seed, Hyper: t.cfg.Hyper}
	switch req.Algorithm {
	case rl.PPO:
		job.AdvantageEstimator = "gae"
	case rl.DPO:
		job.AdvantageEstimator = "pairs"
	}
	if req.Parent != "" {
		p, err := filepath.Abs(req.Parent)
		if err != nil {
			return nil, fmt.Errorf("command trainer: parent adapter: %w", err)
		}
		job.ParentAdapter = p
	}
	job.LoRA.R, job.LoRA.Alpha, job.LoRA.TargetModules = t.cfg.Rank, t.cfg.Alpha, t.cfg.TargetModules
	job.Counts.Samples, job.Counts.Items, job.Counts.Examples, job.Counts.Pairs = set.Samples, set.Items, len(set.Examples), len(set.Pairs)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range set.Examples {
		if err := enc.Encode(sampleLine{Type: "sample", Example: set.Examples[i]}); err != nil {
			return nil, fmt.Errorf("command trainer: encode example: %w", err)
		}
	}
	for i := range set.Pairs {
		if err := enc.Encode(pairLine{Type: "pair", Pair: set.Pairs[i]}); err != nil {
			return nil, fmt.Errorf("command trainer: encode pair: %w", err)
		}
	}
	if err := os.WriteFile(job.Data, buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("command trainer: write data: %w", err)
	}
	b, _ := json.MarshalIndent(job, "", "  ")
	if err := os.WriteFile(filepath.Join(work, "config.json"), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("command trainer: write config: %w", err)
	}
	return job, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// expand substitutes the placeholders of the template.
func (t *Trainer) values(work string, req train.Request, job *JobConfig) map[string]string {
	return map[string]string{
		"data": job.Data, "config": filepath.Join(work, "config.json"), "out": job.Out, "workdir": work,
		"parent": job.ParentAdapter, "algorithm": string(req.Algorithm), "gen": strconv.Itoa(req.Gen),
		"version": strconv.Itoa(req.Version), "run": req.Run, "base_model": t.cfg.BaseModel,
		"seed": strconv.FormatInt(req.Seed, 10),
	}
}

func expand(template string, vals map[string]string) string {
	return placeholder.ReplaceAllStringFunc(template, func(m string) string {
		return shellQuote(vals[m[1:len(m)-1]])
	})
}

// logSink writes the command's output to the log file and, line by line,
// to OnLog. Go serialises writes when Stdout and Stderr are the same value.
type logSink struct {
	mu      sync.Mutex
	f       *os.File
	partial []byte
	tail    []string
	onLine  func(string)
}

const tailLines = 20

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.Write(p)
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(bytes.TrimRight(s.partial[:i], "\r")))
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *logSink) line(l string) {
	s.tail = append(s.tail, l)
	if len(s.tail) > tailLines {
		s.tail = s.tail[len(s.tail)-tailLines:]
	}
	if s.onLine != nil {
		s.onLine(l)
	}
}

func (s *logSink) flush() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.partial) > 0 {
		s.line(string(s.partial))
		s.partial = nil
	}
	return append([]string(nil), s.tail...)
}

func (t *Trainer) run(ctx context.Context, work string, req train.Request, job *JobConfig) error {
	logPath := filepath.Join(work, "train.log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("command trainer: create log: %w", err)
	}
	defer f.Close()
	sink := &logSink{f: f, onLine: t.cfg.OnLog}
	vals := t.values(work, req, job)
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.cfg.Shell, "-c", expand(t.cfg.Command, vals))
	cmd.Dir = t.cfg.Dir
	if cmd.Dir == "" {
		cmd.Dir = work
	}
	cmd.Env = append(os.Environ(), t.cfg.Env...)
	for k, v := range vals {
		cmd.Env = append(cmd.Env, "SIA_"+strings.ToUpper(k)+"="+v)
	}
	cmd.Stdout, cmd.Stderr = sink, sink
	setGroup(cmd, t.cfg.KillGrace)
	cmd.WaitDelay = t.cfg.KillGrace + time.Second
	err = cmd.Run()
	killGroup(cmd)
	tail := sink.flush()
	if err == nil {
		return nil
	}
	why := err.Error()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		why = fmt.Sprintf("timed out after %s", t.cfg.Timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("command trainer: %w", ctx.Err())
	}
	return fmt.Errorf("command trainer: command %s (log %s):\n%s", why, logPath, strings.Join(tail, "\n"))
}

// findAdapter returns the folder under out holding adapter_config.json:
// out itself, or its only such subfolder (trainers often save to
// out/checkpoint-N/ or out/final/).
func findAdapter(out string) (string, error) {
	if _, err := os.Stat(filepath.Join(out, adapter.ConfigFile)); err == nil {
		return out, nil
	}
	var found []string
	entries, err := os.ReadDir(out)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(out, e.Name(), adapter.ConfigFile)); err == nil {
				found = append(found, filepath.Join(out, e.Name()))
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: the command wrote no %s into %s", adapter.ErrInvalid, adapter.ConfigFile, out)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: the command wrote %d adapters into %s; keep one", adapter.ErrInvalid, len(found), out)
}

func (t *Trainer) collect(staging string, req train.Request, set *trainset.Set) (*train.Result, error) {
	dir, err := findAdapter(staging)
	if err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	info, err := adapter.Validate(dir, adapter.Expect{MaxRank: t.cfg.MaxRank, Rank: t.cfg.Rank, BaseModel: t.cfg.BaseModel})
	if err != nil {
		return nil, fmt.Errorf("command trainer: rejected the adapter the command wrote: %w", err)
	}
	metrics := map[string]float64{
		"examples": float64(len(set.Examples)), "pairs": float64(len(set.Pairs)),
		"lora_params": float64(info.Params), "lora_modules": float64(len(info.Modules)),
	}
	for _, p := range []string{filepath.Join(staging, "metrics.json"), filepath.Join(dir, "metrics.json")} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var m map[string]float64
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("command trainer: %s must be a flat object of numbers: %w", p, err)
		}
		for k, v := range m {
			metrics[k] = v
		}
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(req.OutDir)), 0o755); err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	if err := os.Rename(dir, req.OutDir); err != nil {
		return nil, fmt.Errorf("command trainer: move adapter into place: %w", err)
	}
	if req.MetricsPath != "" {
		b, _ := json.Marshal(metrics)
		if f, err := os.OpenFile(req.MetricsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			w := bufio.NewWriter(f)
			w.Write(append(b, '\n'))
			w.Flush()
			f.Close()
		}
	}
	return &train.Result{Version: req.Version, AdapterDir: req.OutDir, Metrics: metrics}, nil
}
