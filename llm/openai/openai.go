package openai

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sia-agent/sia/llm"
)

// Defaults applied by Config.applyDefaults.
const (
	DefaultBaseURL    = "https://api.openai.com/v1"
	DefaultTimeout    = 5 * time.Minute
	DefaultMaxRetries = 3
	// DefaultMaxRetryDelay bounds how long a retry-after header may make a
	// call wait; a longer demand fails the call instead of stalling a run.
	DefaultMaxRetryDelay = 2 * time.Minute
)

// Config configures a Model. The zero value talks to api.openai.com with no
// API key, which suits nothing; set at least APIKey or BaseURL.
type Config struct {
	// BaseURL of the API including the version path, e.g.
	// "http://localhost:8000/v1"; "" means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a Bearer token; "" sends no Authorization header
	// (local servers). The OPENAI_* environment is never read.
	APIKey string
	// Headers are added to every request (e.g. OpenRouter's HTTP-Referer).
	Headers map[string]string
	// Timeout bounds one attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt; 0 means
	// DefaultMaxRetries, a negative value disables retries.
	MaxRetries int
	// MaxRetryDelay caps a server-requested retry-after wait; 0 means
	// DefaultMaxRetryDelay.
	MaxRetryDelay time.Duration
	// VLLM asks the server for vLLM's token-level extras: return_token_ids
	// always, and return_tokens_as_token_ids with logprobs. Official OpenAI
	// rejects these fields, so it is opt-in (the bundled vllm provider sets it).
	VLLM bool
	// MaxCompletionTokensField sends Request.MaxTokens as
	// max_completion_tokens instead of max_tokens. Defaults to true for the
	// official API (its reasoning models refuse max_tokens), false elsewhere.
	MaxCompletionTokensField *bool
	// HTTPClient replaces the SDK's default client (tests, proxies).
	HTTPClient *http.Client
}

func (c *Config) applyDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.MaxRetryDelay == 0 {
		c.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if c.MaxCompletionTokensField == nil {
		official := strings.Contains(c.BaseURL, "api.openai.com")
		c.MaxCompletionTokensField = &official
	}
}

func (c *Config) validate() error {
	if err := llm.CheckBaseURL(c.BaseURL); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s is negative", c.Timeout)
	}
	return nil
}

// Model is an OpenAI-compatible chat model. It is safe for concurrent use.
type Model struct {
	name   string
	cfg    Config
	client sdk.Client
}

var _ llm.Model = (*Model)(nil)

// NewModel returns a model that sends requests for model (the server's model
// name; a Request.Model overrides it per call). cfg may be nil.
func NewModel(ctx context.Context, model string, cfg *Config) (*Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if model == "" {
		return nil, errors.New("openai: model name is empty")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("openai config: %w", err)
	}
	opts := []option.RequestOption{
		option.WithBaseURL(c.BaseURL + "/"),
		// Always set, even empty: an explicit key keeps the SDK from
		// falling back to OPENAI_API_KEY in the process environment.
		option.WithAPIKey(c.APIKey),
		option.WithMaxRetries(c.MaxRetries),
		option.WithMaxRetryDelay(c.MaxRetryDelay),
		option.WithRequestTimeout(c.Timeout),
		option.WithMiddleware(normalizeErrorBody),
	}
	for k, v := range c.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	if c.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(c.HTTPClient))
	}
	return &Model{name: model, cfg: c, client: sdk.NewClient(opts...)}, nil
}

// Name is the configured model name.
func (m *Model) Name() string { return m.name }

// Chat implements llm.Model.
func (m *Model) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	name := m.name
	if req.Model != "" {
		name = req.Model
	}
	params, err := toParams(name, req, m.cfg)
	if err != nil {
		return nil, fmt.Errorf("openai chat %s: %w", name, err)
	}
	res, err := m.send(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("openai chat %s: %w", name, wrapError(err))
	}
	c, err := fromCompletion(res)
	if err != nil {
		return nil, fmt.Errorf("openai chat %s: %w", name, err)
	}
	if c.Model == "" {
		c.Model = name
	}
	return c, nil
}

// send calls the SDK, which retries 429, 5xx and connection errors itself.
// openai-go does not retry an attempt that ran into its per-attempt timeout
// (it returns the attempt's context error), so send retries those, with the
// same exponential backoff and jitter, while the caller's context is alive.
func (m *Model) send(ctx context.Context, params sdk.ChatCompletionNewParams) (*sdk.ChatCompletion, error) {
	for attempt := 0; ; attempt++ {
		res, err := m.client.Chat.Completions.New(ctx, params)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || attempt >= m.cfg.MaxRetries {
			if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %s per attempt, %d attempts: %w", m.cfg.Timeout, attempt+1, err)
			}
			return res, err
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// backoff is 0.5 s doubling per attempt, capped at 8 s, minus up to 25%
// jitter (the SDKs' own schedule).
func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt, 4)
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
