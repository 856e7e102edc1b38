package profile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/anthropic"
	"github.com/sia-agent/sia/llm/openai"
)

// ErrEmbedded is returned by Open for the embedded provider: the caller
// builds the in-process model itself.
var ErrEmbedded = errors.New("embedded model: built by the caller")

// ErrMissingKey is wrapped when a provider's api_key_env is not set.
var ErrMissingKey = errors.New("api key not set")

// Option adjusts how Open builds a model.
type Option func(*options)

type options struct {
	loader     *Loader
	timeout    time.Duration
	maxRetries int
	httpClient *http.Client
	notify     func(string)
}

// WithLoader resolves references with l instead of the default (user dir
// from getenv, bundled set).
func WithLoader(l *Loader) Option { return func(o *options) { o.loader = l } }

// WithTimeout sets the per-attempt timeout of every call.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithMaxRetries sets the retries after a failed attempt (negative: none).
func WithMaxRetries(n int) Option { return func(o *options) { o.maxRetries = n } }

// WithHTTPClient sends requests through c.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithNotify receives one line when Open proceeds on something the user
// may not expect (a local server called without its unset key).
func WithNotify(f func(string)) Option { return func(o *options) { o.notify = f } }

func buildOptions(getenv func(string) string, opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	if o.loader == nil {
		dir, err := UserDir(getenv)
		if err != nil {
			dir = "" // no user folder: bundled profiles still work
		}
		o.loader = &Loader{UserDir: dir}
	}
	return o
}

// Open resolves a target profile reference and returns its task model. For
// the embedded provider it returns ErrEmbedded. A missing API key is an error
// wrapping ErrMissingKey that names the variable; no request is made.
func Open(ctx context.Context, ref string, getenv func(string) string, opts ...Option) (llm.Model, error) {
	o := buildOptions(getenv, opts)
	tp, err := o.loader.Target(ref)
	if err != nil {
		return nil, err
	}
	prov, err := o.loader.TargetProvider(tp)
	if err != nil {
		return nil, fmt.Errorf("target profile %q: %w", tp.ProfileID, err)
	}
	m, err := newModel(ctx, prov, ModelFor("", prov, tp.Model), getenv, o)
	if err != nil {
		return nil, fmt.Errorf("target profile %q: %w", tp.ProfileID, err)
	}
	return m, nil
}

// OpenMeta resolves a meta profile reference and returns the profile and
// its model. The builtin agents need no model: the model is then nil.
func OpenMeta(ctx context.Context, ref string, getenv func(string) string, opts ...Option) (llm.Model, *MetaProfile, error) {
	o := buildOptions(getenv, opts)
	mp, err := o.loader.Meta(ref)
	if err != nil {
		return nil, nil, err
	}
	if !mp.UsesLLM() {
		return nil, mp, nil
	}
	prov, err := o.loader.MetaProvider(mp)
	if err != nil {
		return nil, nil, fmt.Errorf("meta profile %q: %w", mp.ProfileID, err)
	}
	m, err := newModel(ctx, prov, ModelFor(mp.AgentImpl, prov, mp.Model), getenv, o)
	if err != nil {
		return nil, nil, fmt.Errorf("meta profile %q: %w", mp.ProfileID, err)
	}
	return m, mp, nil
}

// NewModel opens model on provider p. getenv supplies the API key.
func NewModel(ctx context.Context, p *Provider, model string, getenv func(string) string, opts ...Option) (llm.Model, error) {
	return newModel(ctx, p, model, getenv, buildOptions(getenv, opts))
}

func newModel(ctx context.Context, p *Provider, model string, getenv func(string) string, o *options) (llm.Model, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	if p.ClientKind == ClientEmbedded {
		return nil, fmt.Errorf("provider %q: %w", p.ProviderID, ErrEmbedded)
	}
	key, err := apiKey(p, getenv, o.notify)
	if err != nil {
		return nil, err
	}
	switch p.ClientKind {
	case ClientAnthropic:
		m, err := anthropic.NewModel(ctx, model, &anthropic.Config{
			BaseURL: p.BaseURL, APIKey: key, Timeout: o.timeout, MaxRetries: o.maxRetries, HTTPClient: o.httpClient,
		})
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.ProviderID, err)
		}
		return m, nil
	case ClientOpenAI, ClientGoogle:
		base := p.BaseURL
		if p.ClientKind == ClientGoogle && base == "" {
			// Gemini through Google's OpenAI-compatible endpoint.
			base = GoogleBaseURL
		}
		m, err := openai.NewModel(ctx, model, &openai.Config{
			BaseURL: base, APIKey: key, Timeout: o.timeout, MaxRetries: o.maxRetries, HTTPClient: o.httpClient, VLLM: p.VLLM,
		})
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.ProviderID, err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("provider %q: client_kind %q cannot be opened", p.ProviderID, p.ClientKind)
	}
}

// apiKey reads the provider's key. A google provider falls back to
// GEMINI_API_KEY, then GOOGLE_API_KEY. A local server (loopback base_url)
// runs without its key when the variable is unset, as SIA's bundled Ollama
// provider expects; notify is told.
func apiKey(p *Provider, getenv func(string) string, notify func(string)) (string, error) {
	var tried []string
	for _, name := range keyEnvs(p) {
		if v := getenv(name); v != "" {
			return v, nil
		}
		tried = append(tried, name)
	}
	if len(tried) == 0 {
		return "", nil
	}
	if p.Local() {
		if notify != nil {
			notify(fmt.Sprintf("provider %q: %s is not set; calling %s without a key", p.ProviderID, strings.Join(tried, " or "), p.BaseURL))
		}
		return "", nil
	}
	return "", fmt.Errorf("%w: provider %q needs %s; set it in the environment", ErrMissingKey, p.ProviderID, strings.Join(tried, " or "))
}

// keyEnvs are the variables a provider's key may come from, in order.
func keyEnvs(p *Provider) []string {
	var out []string
	if p.APIKeyEnv != "" {
		out = append(out, p.APIKeyEnv)
	}
	if p.ClientKind == ClientGoogle {
		for _, name := range googleKeyEnvs {
			if name != p.APIKeyEnv {
				out = append(out, name)
			}
		}
	}
	return out
}
