package vllm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/llm"
)

// Config configures a Manager. The zero value of every field but BaseURL is
// usable.
type Config struct {
	// BaseURL is the vLLM server, with or without a trailing /v1
	// (http://gpu-box:8000 or http://gpu-box:8000/v1).
	BaseURL string
	// APIKey is sent as a Bearer token (vLLM's --api-key); optional.
	APIKey string
	// Prefix names the versions: Prefix-v0007. Default "policy".
	Prefix string
	// Keep is how many previous versions stay loaded after a switch, so
	// in-flight requests on them can finish. Default 0: only the current one.
	Keep int
	// MaxRank is the server's --max-lora-rank; adapters above it are refused
	// before they are sent. 0 skips the check.
	MaxRank int
	// BaseModel, when set, must match the adapter's base_model_name_or_path.
	BaseModel string
	// LocalRoot and RemoteRoot translate adapter paths when the server sees
	// the run folder at another path (a shared volume mounted elsewhere): a
	// path under LocalRoot is sent as the same path under RemoteRoot.
	LocalRoot, RemoteRoot string
	// Switch is called after the new version is loaded and before old ones
	// are unloaded; the loop points the gateway's policy route at name here.
	// An error aborts the publish and unloads the new version again.
	Switch func(ctx context.Context, name string, version int) error
	// OnEvent receives progress and non-fatal problems (a failed unload).
	OnEvent func(Event)
	// HTTPClient defaults to a client with a 5-minute timeout (loading a
	// large adapter from disk can take a while).
	HTTPClient *http.Client
}

// Event reports one step of a publish.
type Event struct {
	Kind    string // "loaded", "switched", "unloaded", "unload_failed"
	Name    string
	Version int
	Err     error
}

func (c *Config) applyDefaults() {
	if c.Prefix == "" {
		c.Prefix = "policy"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Minute}
	}
	c.BaseURL = strings.TrimSuffix(strings.TrimRight(c.BaseURL, "/"), "/v1")
}

func (c *Config) validate() error {
	if c.BaseURL == "" {
		return errors.New("vllm: base URL is required")
	}
	if c.Keep < 0 {
		return fmt.Errorf("vllm: keep must be ≥ 0, got %d", c.Keep)
	}
	if (c.LocalRoot == "") != (c.RemoteRoot == "") {
		return errors.New("vllm: set both LocalRoot and RemoteRoot, or neither")
	}
	return nil
}

// Manager loads, switches and unloads versioned adapters on one server. It
// is safe for concurrent use; publishes are serialised.
type Manager struct {
	cfg Config

	mu       sync.Mutex
	loaded   []published // oldest first; the last is current
	lastVer  int         // the highest serial a name was made from
	publishM sync.Mutex
}

type published struct {
	name    string
	version int
}

// New checks cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg}, nil
}

// Name is the served name of serial n: Prefix-v0007. A new adapter version
// is published under Name(version); serving an older version again (keep-best
// can return to it) loads it under the next unused serial, so a name is
// never reused and the server never answers from a stale cache.
func (m *Manager) Name(n int) string { return fmt.Sprintf("%s-v%04d", m.cfg.Prefix, n) }

// Current returns the name and version last published (""/0 before any).
func (m *Manager) Current() (name string, version int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.loaded) == 0 {
		return "", 0
	}
	p := m.loaded[len(m.loaded)-1]
	return p.name, p.version
}

// Publish validates the PEFT adapter in adapterDir, loads it as
// Name(version), calls Switch, and unloads versions beyond Keep. Versions
// must increase across calls: a name is never loaded twice.
func (m *Manager) Publish(ctx context.Context, adapterDir string, version int) (string, error) {
	m.publishM.Lock()
	defer m.publishM.Unlock()
	if version <= 0 {
		return "", fmt.Errorf("publish adapter: version must be positive, got %d", version)
	}
	m.mu.Lock()
	serial := max(version, m.lastVer+1)
	m.mu.Unlock()
	if _, err := adapter.Validate(adapterDir, adapter.Expect{MaxRank: m.cfg.MaxRank, BaseModel: m.cfg.BaseModel}); err != nil {
		return "", fmt.Errorf("publish adapter v%d: %w", version, err)
	}
	path, err := m.remotePath(adapterDir)
	if err != nil {
		return "", err
	}
	name := m.Name(serial)
	if err := m.Load(ctx, name, path); err != nil {
		if errors.Is(err, ErrAlreadyLoaded) {
			return "", fmt.Errorf("publish adapter: %w (another run or an earlier attempt loaded %s; start from a higher version)", err, name)
		}
		return "", fmt.Errorf("publish adapter: %w", err)
	}
	m.mu.Lock()
	m.lastVer = serial
	m.mu.Unlock()
	m.emit(Event{Kind: "loaded", Name: name, Version: version})
	if m.cfg.Switch != nil {
		if err := m.cfg.Switch(ctx, name, version); err != nil {
			// Leave the server as it was: the old version keeps serving.
			if uerr := m.Unload(context.WithoutCancel(ctx), name); uerr != nil {
				m.emit(Event{Kind: "unload_failed", Name: name, Version: version, Err: uerr})
			}
			return "", fmt.Errorf("publish adapter: switch policy to %s: %w", name, err)
		}
		m.emit(Event{Kind: "switched", Name: name, Version: version})
	}
	m.mu.Lock()
	m.loaded = append(m.loaded, published{name: name, version: version})
	var drop []published
	if n := len(m.loaded) - 1 - m.cfg.Keep; n > 0 {
		drop = append(drop, m.loaded[:n]...)
		m.loaded = append([]published(nil), m.loaded[n:]...)
	}
	m.mu.Unlock()
	for _, p := range drop {
		err := m.Unload(ctx, p.name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			m.emit(Event{Kind: "unload_failed", Name: p.name, Version: p.version, Err: err})
			continue
		}
		m.emit(Event{Kind: "unloaded", Name: p.name, Version: p.version})
	}
	return name, nil
}

func (m *Manager) emit(e Event) {
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(e)
	}
}

func (m *Manager) remotePath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("adapter path %q: %w", dir, err)
	}
	if m.cfg.LocalRoot == "" {
		return abs, nil
	}
	root, err := filepath.Abs(m.cfg.LocalRoot)
	if err != nil {
		return "", fmt.Errorf("local root %q: %w", m.cfg.LocalRoot, err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("adapter path %q is outside the local root %q shared with the server", abs, root)
	}
	return filepath.ToSlash(filepath.Join(m.cfg.RemoteRoot, rel)), nil
}

// Load asks the server to load the adapter at path (as the server sees it)
// under name.
func (m *Manager) Load(ctx context.Context, name, path string) error {
	body := map[string]string{"lora_name": name, "lora_path": path}
	if _, err := m.post(ctx, "/v1/load_lora_adapter", body); err != nil {
		return fmt.Errorf("load lora adapter %q from %q: %w", name, path, err)
	}
	return nil
}

// Unload asks the server to drop the adapter called name.
func (m *Manager) Unload(ctx context.Context, name string) error {
	if _, err := m.post(ctx, "/v1/unload_lora_adapter", map[string]string{"lora_name": name}); err != nil {
		return fmt.Errorf("unload lora adapter %q: %w", name, err)
	}
	return nil
}

// Model is one entry of GET /v1/models. For adapters, Root is the path it
// was loaded from and Parent the base model.
type Model struct {
	ID     string `json:"id"`
	Root   string `json:"root,omitempty"`
	Parent string `json:"parent,omitempty"`
}

// Models lists the base model and the loaded adapters.
func (m *Manager) Models(ctx context.Context) ([]Model, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.cfg.BaseURL+"/v1/models", nil)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	b, err := m.do(req)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var list struct {
		Data []Model `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("list models: decode: %w", err)
	}
	return list.Data, nil
}

func (m *Manager) post(ctx context.Context, route string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.BaseURL+route, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return m.do(req)
}

// do sends req and returns the body of a 2xx answer. Success bodies of the
// LoRA routes are plain text, so they are returned unparsed.
func (m *Manager) do(req *http.Request) ([]byte, error) {
	if m.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+m.cfg.APIKey)
	}
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseError(resp.StatusCode, b)
	}
	return b, nil
}

// Policy returns a function with the shape of loop.PolicyFactory for a
// vLLM target: version 0 (or no adapter folder) is served by the base model
// under baseName; any other version is published (loaded under its
// versioned name, switched to, old versions unloaded) unless it is already
// loaded, and served by its name. serve builds the task model for a served
// model name (typically an llm/openai model pointed at the same server).
// A version that was unloaded is loaded again under a fresh name.
func (m *Manager) Policy(baseName string, serve func(name string) (llm.Model, error)) func(ctx context.Context, adapterDir string, version int) (llm.Model, error) {
	return func(ctx context.Context, adapterDir string, version int) (llm.Model, error) {
		if version == 0 || adapterDir == "" {
			return serve(baseName)
		}
		m.mu.Lock()
		name := ""
		for _, p := range m.loaded {
			if p.version == version {
				name = p.name
			}
		}
		m.mu.Unlock()
		if name == "" {
			var err error
			if name, err = m.Publish(ctx, adapterDir, version); err != nil {
				return nil, err
			}
		}
		return serve(name)
	}
}
