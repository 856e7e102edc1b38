package profile

import (
	"fmt"
	"regexp"
)

// Client kinds a provider may name.
const (
	ClientAnthropic = "anthropic"
	ClientOpenAI    = "openai"
	ClientEmbedded  = "embedded"
)

// Agent implementations a meta profile may name.
const (
	AgentBuiltin = "builtin" // the offline deterministic agents
	AgentLLM     = "llm"     // the tool-use agent over the profile's model
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
}

// TargetProfile picks the task model.
type TargetProfile struct {
	ProfileID  string `json:"profile_id"`
	Name       string `json:"name"`
	Model      string `json:"model"`
	ProviderID string `json:"provider_id"`
	// AgentReference names the reference harness the Meta-Agent starts
	// from; "task" means the task's own.
	AgentReference string `json:"agent_reference"`
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
	case ClientAnthropic, ClientOpenAI, ClientEmbedded:
	default:
		return fmt.Errorf("client_kind %q: want anthropic, openai or embedded", p.ClientKind)
	}
	return nil
}

func (p *MetaProfile) validate() error {
	if err := checkID("profile_id", p.ProfileID); err != nil {
		return err
	}
	if p.AgentImpl == "" {
		return fmt.Errorf("agent_impl is empty")
	}
	if p.AgentImpl == AgentBuiltin {
		return nil // needs no model
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
