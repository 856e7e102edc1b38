package tinylm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nlpodyssey/safetensors"

	"github.com/sia-agent/sia/internal/atomicfile"
)

// peft.go: adapters as PEFT LoRA folders (adapter_config.json +
// adapter_model.safetensors), readable by PEFT and vLLM. The value head is
// not part of PEFT and goes to value_head.safetensors in the same folder.

// File names inside an adapter folder.
const (
	PEFTConfigFile    = "adapter_config.json"
	PEFTWeightsFile   = "adapter_model.safetensors"
	ValueHeadFile     = "value_head.safetensors"
	metaBaseHash      = "tinylm.base_hash"
	metaAdapterConfig = "tinylm.lora_config"
)

// peftConfig is adapter_config.json.
type peftConfig struct {
	PeftType          string   `json:"peft_type"`
	TaskType          string   `json:"task_type"`
	R                 int      `json:"r"`
	LoraAlpha         float64  `json:"lora_alpha"`
	TargetModules     []string `json:"target_modules"`
	BaseModelNameOrPa string   `json:"base_model_name_or_path"`
	Bias              string   `json:"bias"`
	FanInFanOut       bool     `json:"fan_in_fan_out"`
	LoraDropout       float64  `json:"lora_dropout"`
	ModulesToSave     []string `json:"modules_to_save"`
	InferenceMode     bool     `json:"inference_mode"`
	UseRSLoRA         bool     `json:"use_rslora"`
	UseDoRA           bool     `json:"use_dora"`
}

// SavePEFT writes the adapter to dir (created if needed) as a PEFT LoRA
// folder; baseName becomes base_model_name_or_path. The base model's Hash is
// stored in the weights' metadata so LoadPEFT can refuse another base.
func (a *Adapter) SavePEFT(dir, baseName string) (err error) {
	defer recoverInto(&err, "save adapter")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	pc := peftConfig{
		PeftType: "LORA", TaskType: "CAUSAL_LM", R: a.cfg.Rank, LoraAlpha: a.cfg.Alpha,
		BaseModelNameOrPa: baseName, Bias: "none", InferenceMode: true,
	}
	for _, t := range a.cfg.Targets {
		pc.TargetModules = append(pc.TargetModules, t+"_proj")
	}
	js, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, PEFTConfigFile), append(js, '\n')); err != nil {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	lc, err := json.Marshal(a.cfg)
	if err != nil {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	meta := map[string]string{"format": "pt", metaBaseHash: a.model.Hash(), metaAdapterConfig: string(lc)}
	var lora []*tensor
	for _, l := range a.layers {
		for _, p := range l {
			if p != nil {
				lora = append(lora, p.a, p.b)
			}
		}
	}
	if err := writeTensors(filepath.Join(dir, PEFTWeightsFile), lora, meta); err != nil {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	vh := filepath.Join(dir, ValueHeadFile)
	if a.valueW != nil {
		if err := writeTensors(vh, []*tensor{a.valueW, a.valueB}, map[string]string{"format": "pt"}); err != nil {
			return fmt.Errorf("save adapter %q: %w", dir, err)
		}
	} else if err := os.Remove(vh); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("save adapter %q: %w", dir, err)
	}
	return nil
}

// LoadPEFT reads an adapter folder written by SavePEFT (or any PEFT LoRA
// folder whose targets and shapes fit m) for model m. A folder saved for a
// different base model (by content hash) is refused.
func LoadPEFT(dir string, m *Model) (a *Adapter, err error) {
	defer recoverInto(&err, "load adapter")
	if m == nil {
		return nil, fmt.Errorf("load adapter %q: nil model", dir)
	}
	js, err := os.ReadFile(filepath.Join(dir, PEFTConfigFile))
	if err != nil {
		return nil, fmt.Errorf("load adapter: %w", err)
	}
	var pc peftConfig
	if err := json.Unmarshal(js, &pc); err != nil {
		return nil, fmt.Errorf("load adapter %q: %s: %w", dir, PEFTConfigFile, err)
	}
	if pc.PeftType != "LORA" {
		return nil, fmt.Errorf("load adapter %q: peft_type %q, want LORA", dir, pc.PeftType)
	}
	if pc.UseDoRA || pc.UseRSLoRA || pc.FanInFanOut || (pc.Bias != "" && pc.Bias != "none") {
		return nil, fmt.Errorf("load adapter %q: unsupported PEFT options (dora, rslora, fan_in_fan_out or bias)", dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, PEFTWeightsFile))
	if err != nil {
		return nil, fmt.Errorf("load adapter: %w", err)
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("load adapter %q: %w", dir, err)
	}
	_, md, err := safetensors.ReadMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("load adapter %q: %w", dir, err)
	}
	if h, ok := md.Metadata()[metaBaseHash]; ok && h != m.Hash() {
		return nil, fmt.Errorf("load adapter %q: it was trained on base %.12s…, this model is %.12s…", dir, h, m.Hash())
	}
	vhPath := filepath.Join(dir, ValueHeadFile)
	_, vhErr := os.Stat(vhPath)
	cfg := LoRAConfig{Rank: pc.R, Alpha: pc.LoraAlpha, Targets: pc.TargetModules, ValueHead: vhErr == nil}
	a, err = newAdapter(m, cfg)
	if err != nil {
		return nil, fmt.Errorf("load adapter %q: %w", dir, err)
	}
	var lora []*tensor
	for _, l := range a.layers {
		for _, p := range l {
			if p != nil {
				lora = append(lora, p.a, p.b)
			}
		}
	}
	if err := readTensors(st, lora); err != nil {
		return nil, fmt.Errorf("load adapter %q: %w", dir, err)
	}
	if a.valueW != nil {
		vd, err := os.ReadFile(vhPath)
		if err != nil {
			return nil, fmt.Errorf("load adapter: %w", err)
		}
		vst, err := safetensors.Deserialize(vd)
		if err != nil {
			return nil, fmt.Errorf("load adapter %q: value head: %w", dir, err)
		}
		if err := readTensors(vst, []*tensor{a.valueW, a.valueB}); err != nil {
			return nil, fmt.Errorf("load adapter %q: value head: %w", dir, err)
		}
	}
	a.refresh()
	return a, nil
}
