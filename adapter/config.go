package adapter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File names of the PEFT layout.
const (
	ConfigFile  = "adapter_config.json"
	WeightsFile = "adapter_model.safetensors"
	// LegacyWeightsFile is the pickle format older PEFT versions wrote. It is
	// recognised only to give a precise error: sia never unpickles.
	LegacyWeightsFile = "adapter_model.bin"
)

// Config is the subset of PEFT's LoraConfig that sia reads and writes.
// Unknown keys are ignored on read, as PEFT and vLLM do.
type Config struct {
	PeftType            string         `json:"peft_type"`
	R                   int            `json:"r"`
	LoraAlpha           float64        `json:"lora_alpha"`
	TargetModules       TargetModules  `json:"target_modules"`
	BaseModelNameOrPath string         `json:"base_model_name_or_path,omitempty"`
	TaskType            string         `json:"task_type,omitempty"`
	LoraDropout         float64        `json:"lora_dropout"`
	Bias                string         `json:"bias,omitempty"`
	FanInFanOut         bool           `json:"fan_in_fan_out"`
	ModulesToSave       []string       `json:"modules_to_save"`
	InferenceMode       bool           `json:"inference_mode"`
	UseRSLoRA           bool           `json:"use_rslora"`
	UseDoRA             bool           `json:"use_dora"`
	RankPattern         map[string]int `json:"rank_pattern,omitempty"`
	AlphaPattern        map[string]int `json:"alpha_pattern,omitempty"`
}

// TargetModules is PEFT's target_modules: either a list of module-name
// suffixes or one regular expression matched against the full module name.
type TargetModules struct {
	Names []string // list form
	Regex string   // string form; empty when Names is used
}

// UnmarshalJSON accepts a list of strings or a single string.
func (t *TargetModules) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*t = TargetModules{}
		return json.Unmarshal(b, &t.Regex)
	}
	if bytes.Equal(b, []byte("null")) {
		*t = TargetModules{}
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("target_modules must be a list of strings or a string: %w", err)
	}
	*t = TargetModules{Names: names}
	return nil
}

// MarshalJSON writes the list form unless only a regex is set.
func (t TargetModules) MarshalJSON() ([]byte, error) {
	if len(t.Names) == 0 && t.Regex != "" {
		return json.Marshal(t.Regex)
	}
	if t.Names == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(t.Names)
}

// Empty reports whether no target module is declared.
func (t TargetModules) Empty() bool { return len(t.Names) == 0 && t.Regex == "" }

// NewConfig returns a LoRA config with the fields vLLM and PEFT expect and
// the defaults sia writes (task CAUSAL_LM, bias none, no dropout).
func NewConfig(baseModel string, rank int, alpha float64, targets []string) Config {
	return Config{
		PeftType:            "LORA",
		R:                   rank,
		LoraAlpha:           alpha,
		TargetModules:       TargetModules{Names: append([]string(nil), targets...)},
		BaseModelNameOrPath: baseModel,
		TaskType:            "CAUSAL_LM",
		Bias:                "none",
		InferenceMode:       true,
	}
}

// ReadConfig reads dir/adapter_config.json.
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read adapter config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &c, nil
}

// WriteConfig writes c as dir/adapter_config.json.
func WriteConfig(dir string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode adapter config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write adapter config: %w", err)
	}
	return nil
}
