package profile

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Client kinds a provider may name. SIA's are anthropic, openai and google;
// embedded is sia's in-process model.
const (
	ClientAnthropic = "anthropic"
	ClientOpenAI    = "openai"
	ClientGoogle    = "google"
	ClientEmbedded  = "embedded"
)

// GoogleBaseURL is Google's OpenAI-compatible Gemini endpoint, used by a
// google provider without a base_url.
const GoogleBaseURL = "https://generativelanguage.googleapis.com/v1beta/openai/"

// googleKeyEnvs are the variables a google provider falls back to when its
// own api_key_env is unset, in the order Google's SDKs read them.
var googleKeyEnvs = []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}

// Agent implementations a meta profile may name. builtin and llm are sia's;
// claude, openhands and pydantic-ai are SIA's agent frameworks, all of which
// run here as the llm tool-use agent over the profile's model.
const (
	AgentBuiltin    = "builtin" // the offline deterministic agents
	AgentLLM        = "llm"     // the tool-use agent over the profile's model
	AgentClaude     = "claude"
	AgentOpenHands  = "openhands"
	AgentPydanticAI = "pydantic-ai"
)

// Defaults when no profile is given.
const (
	DefaultMeta   = "builtin"
	DefaultTarget = "embedded"
)

// Provider says how to reach a model API.
type Provider struct {
	ProviderID string `json:"provider_id"`
	Name       string `json:"name"`
	ClientKind string `json:"client_kind"`
	BaseURL    string `json:"base_url,omitempty"`
	// APIKeyEnv names the environment variable holding the key; "" means
	// the server needs none (local Ollama, vLLM).
	APIKeyEnv string `json:"api_key_env"`
	// VLLM marks a vLLM server: requests ask for token ids and logprobs in
	// vLLM's extra fields.
	VLLM bool `json:"vllm,omitempty"`
}

// MetaProfile picks the model behind the Meta- and Feedback-Agents.
type MetaProfile struct {
	ProfileID  string `json:"profile_id"`
	Name       string `json:"name"`
	AgentImpl  string `json:"agent_impl"`
	Model      string `json:"model"`
	ProviderID string `json:"provider_id"`
	// ModelCanonicalName is SIA's vendor id of the model (for pricing);
	// sia's price table is looked up under it when set.
	ModelCanonicalName string `json:"model_canonical_name,omitempty"`
	// Dir is the folder of the file the profile was read from ("" when
	// bundled); a relative provider path resolves against it.
	Dir string `json:"-"`
}

// UsesLLM reports whether the profile's agents need its model (every
// agent_impl but builtin).
func (p *MetaProfile) UsesLLM() bool { return p.AgentImpl != AgentBuiltin }

// TargetProfile picks the task model.
type TargetProfile struct {
	ProfileID  string `json:"profile_id"`
	Name       string `json:"name"`
	Model      string `json:"model"`
	ProviderID string `json:"provider_id"`
	// AgentReference is the seed harness the Meta-Agent starts from:
	// "default" (the task's own reference) or a file or folder.
	AgentReference AgentReference `json:"agent_reference"`
	// ModelCanonicalName is as in MetaProfile.
	ModelCanonicalName string `json:"model_canonical_name,omitempty"`
	// Dir is as in MetaProfile; a relative agent_reference source resolves
	// against it too.
	Dir string `json:"-"`
}

// validName keeps ids usable as file names and unambiguous with paths.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if !validName.MatchString(v) {
		return fmt.Errorf("%s %q: use letters, digits, '.', '_' and '-'", field, v)
	}
	return nil
}

func (p *Provider) validate() error {
	if err := checkID("provider_id", p.ProviderID); err != nil {
		return err
	}
	switch p.ClientKind {
	case ClientAnthropic, ClientOpenAI, ClientGoogle, ClientEmbedded:
	default:
		return fmt.Errorf("client_kind %q: want anthropic, openai, google or embedded", p.ClientKind)
	}
	return nil
}

// Local reports whether the provider's server is on this machine (a
// loopback base_url): such servers run without a key, so an unset
// api_key_env does not stop the run there.
func (p *Provider) Local() bool {
	u, err := url.Parse(p.BaseURL)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *MetaProfile) validate() error {
	if err := checkID("profile_id", p.ProfileID); err != nil {
		return err
	}
	switch p.AgentImpl {
	case "":
		return fmt.Errorf("agent_impl is empty")
	case AgentBuiltin:
		return nil // needs no model
	case AgentLLM, AgentClaude, AgentOpenHands, AgentPydanticAI:
	default:
		return fmt.Errorf("agent_impl %q: want builtin, llm, claude, openhands or pydantic-ai", p.AgentImpl)
	}
	if p.Model == "" {
		return fmt.Errorf("model is empty")
	}
	return checkProviderRef(p.ProviderID)
}

func (p *TargetProfile) validate() error {
	if err := checkID("profile_id", p.ProfileID); err != nil {
		return err
	}
	if p.Model == "" {
		return fmt.Errorf("model is empty")
	}
	return checkProviderRef(p.ProviderID)
}

func checkProviderRef(ref string) error {
	if ref == "" {
		return fmt.Errorf("provider_id is empty")
	}
	if isPath(ref) {
		return nil
	}
	return checkID("provider_id", ref)
}

// claudeShortcuts are the model names SIA's claude agent impl accepts, and
// the models they stand for (SIA's docs/configuration.md).
var claudeShortcuts = map[string]string{
	"haiku":  "claude-haiku-4-5-20251001",
	"sonnet": "claude-sonnet-4-5-20250929",
	"opus":   "claude-opus-4-5-20251101",
}

// ModelFor returns the model id to send to provider p for a profile's model
// written in SIA's conventions: the claude shortcuts (haiku, sonnet, opus)
// on an anthropic provider; OpenHands' LiteLLM spelling "<vendor>/<model>"
// and PydanticAI's "<vendor>:<model>" lose their vendor prefix when it names
// the provider's own API (anthropic/… on anthropic, gemini/… on google,
// openai/… on the official OpenAI API). Any other name is sent as written:
// "openai/gpt-oss-120b" on OpenRouter or vLLM is a model id, not a prefix.
func ModelFor(agentImpl string, p *Provider, model string) string {
	if p.ClientKind == ClientAnthropic {
		if full, ok := claudeShortcuts[model]; ok {
			return full
		}
	}
	var prefixes []string
	switch agentImpl {
	case AgentOpenHands:
		switch {
		case p.ClientKind == ClientAnthropic:
			prefixes = []string{"anthropic/"}
		case p.ClientKind == ClientGoogle:
			prefixes = []string{"gemini/"}
		case p.ClientKind == ClientOpenAI && p.BaseURL == "":
			prefixes = []string{"openai/"}
		}
	case AgentPydanticAI:
		switch p.ClientKind {
		case ClientAnthropic:
			prefixes = []string{"anthropic:"}
		case ClientGoogle:
			prefixes = []string{"google-gla:", "google-vertex:"}
		case ClientOpenAI:
			prefixes = []string{"openai:"}
		}
	}
	for _, pre := range prefixes {
		if rest, ok := strings.CutPrefix(model, pre); ok && rest != "" {
			return rest
		}
	}
	return model
}
