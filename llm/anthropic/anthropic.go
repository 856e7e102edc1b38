package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/sia-agent/sia/llm"
)

// Defaults applied by Config.applyDefaults.
const (
	DefaultBaseURL    = "https://api.anthropic.com"
	DefaultTimeout    = 10 * time.Minute
	DefaultMaxRetries = 3
	DefaultMaxTokens  = 8192
)

// Config configures a Model. The zero value talks to api.anthropic.com; set
// APIKey. The ANTHROPIC_* environment is never read.
type Config struct {
	// BaseURL of the API without the /v1 path; "" means DefaultBaseURL.
	BaseURL string
	// APIKey is the API key (anthropic-sdk-go v2 sends it as a Bearer token).
	APIKey string
	// Headers are added to every request.
	Headers map[string]string
	// Timeout bounds one attempt; 0 means DefaultTimeout. Setting it also
	// lifts the SDK's refusal of long non-streaming calls.
	Timeout time.Duration
	// MaxRetries after the first attempt; 0 means DefaultMaxRetries, a
	// negative value disables retries.
	MaxRetries int
	// MaxTokens is sent when a Request leaves MaxTokens at 0 (the API
	// requires it); 0 means DefaultMaxTokens.
	MaxTokens int
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
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
}

func (c *Config) validate() error {
	if err := llm.CheckBaseURL(c.BaseURL); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s is negative", c.Timeout)
	}
	if c.MaxTokens < 0 {
		return fmt.Errorf("max tokens %d is negative", c.MaxTokens)
	}
	return nil
}

// Model is a Claude chat model. It is safe for concurrent use.
type Model struct {
	name   string
	cfg    Config
	client sdk.Client
}

var _ llm.Model = (*Model)(nil)

// NewModel returns a model that calls model (a Request.Model overrides it per
// call). cfg may be nil.
func NewModel(ctx context.Context, model string, cfg *Config) (*Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if model == "" {
		return nil, errors.New("anthropic: model name is empty")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("anthropic config: %w", err)
	}
	opts := []option.RequestOption{
		// We resolve credentials ourselves (profiles name the variable);
		// the SDK must not pick up ANTHROPIC_* from the environment.
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(c.BaseURL + "/"),
		option.WithAPIKey(c.APIKey),
		option.WithMaxRetries(c.MaxRetries),
		option.WithRequestTimeout(c.Timeout),
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
	// OpenAI-only request fields and content parts have no mapping here
	// yet: refuse them by name rather than drop them.
	if err := req.Unsupported("anthropic model", llm.Capabilities{}); err != nil {
		return nil, err
	}
	name := m.name
	if req.Model != "" {
		name = req.Model
	}
	params, err := toParams(name, req, m.cfg.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("anthropic chat %s: %w", name, err)
	}
	n := max(req.N, 1)
	out := &llm.Completion{Model: name}
	for range n {
		res, err := m.client.Messages.New(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("anthropic chat %s: %w", name, wrapError(err))
		}
		c := fromMessage(res)
		out.Model = c.Model
		out.Choices = append(out.Choices, c.Choices...)
		out.Usage = out.Usage.Add(c.Usage)
	}
	return out, nil
}
