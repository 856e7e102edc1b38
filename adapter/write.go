package adapter

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteLoRA writes a complete PEFT adapter to dir: the config plus one
// lora_A [r,in] / lora_B [out,r] pair per (layer, module) of a
// Hugging Face–style causal LM (base_model.model.model.layers.L.self_attn.M).
// Values are small deterministic numbers. Fake trainers and servers in tests
// use it; so can exporters that already hold the weights' shapes.
func WriteLoRA(dir string, cfg Config, layers, in, out int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create adapter folder: %w", err)
	}
	if err := WriteConfig(dir, cfg); err != nil {
		return err
	}
	var ts []Tensor
	r := cfg.R
	for l := 0; l < layers; l++ {
		for _, m := range cfg.TargetModules.Names {
			prefix := fmt.Sprintf("base_model.model.model.layers.%d.self_attn.%s", l, m)
			a := make([]float32, r*in)
			for i := range a {
				a[i] = float32(i%7) * 0.01
			}
			ts = append(ts,
				F32Tensor(prefix+".lora_A.weight", []int64{int64(r), int64(in)}, a),
				F32Tensor(prefix+".lora_B.weight", []int64{int64(out), int64(r)}, make([]float32, out*r)))
		}
	}
	f, err := os.Create(filepath.Join(dir, WeightsFile))
	if err != nil {
		return fmt.Errorf("create adapter weights: %w", err)
	}
	if err := WriteSafetensors(f, ts, map[string]string{"format": "pt"}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close adapter weights: %w", err)
	}
	return nil
}
