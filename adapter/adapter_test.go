package adapter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeValid(t *testing.T, mutate func(c *Config)) string {
	t.Helper()
	dir := t.TempDir()
	c := NewConfig("org/base", 4, 8, []string{"q_proj", "v_proj"})
	if mutate != nil {
		mutate(&c)
	}
	if err := WriteLoRA(dir, c, 2, 16, 24); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateAcceptsWrittenAdapter(t *testing.T) {
	dir := writeValid(t, nil)
	info, err := Validate(dir, Expect{MaxRank: 8, Rank: 4, TargetModules: []string{"q_proj"}, BaseModel: "org/base"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.R != 4 || info.Config.LoraAlpha != 8 {
		t.Errorf("config r=%d alpha=%g", info.Config.R, info.Config.LoraAlpha)
	}
	if info.Tensors != 8 || len(info.Modules) != 4 {
		t.Errorf("tensors=%d modules=%v", info.Tensors, info.Modules)
	}
	// 2 layers × 2 modules × (4·16 + 24·4)
	if want := int64(2 * 2 * (4*16 + 24*4)); info.Params != want {
		t.Errorf("params=%d want %d", info.Params, want)
	}
	if info.Modules[0] != "model.layers.0.self_attn.q_proj" {
		t.Errorf("module path %q", info.Modules[0])
	}
}

func TestValidateConfigRejections(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   Expect
		msg    string
	}{
		{"peft type", func(c *Config) { c.PeftType = "IA3" }, Expect{}, "peft_type"},
		{"zero rank", func(c *Config) { c.R = 0 }, Expect{}, "r must be positive"},
		{"zero alpha", func(c *Config) { c.LoraAlpha = 0 }, Expect{}, "lora_alpha"},
		{"no targets", func(c *Config) { c.TargetModules = TargetModules{} }, Expect{}, "target_modules is empty"},
		{"modules_to_save", func(c *Config) { c.ModulesToSave = []string{"lm_head"} }, Expect{}, "modules_to_save"},
		{"dora", func(c *Config) { c.UseDoRA = true }, Expect{}, "DoRA"},
		{"bias", func(c *Config) { c.Bias = "all" }, Expect{}, "bias"},
		{"rank above max", nil, Expect{MaxRank: 2}, "exceeds the server's max LoRA rank 2"},
		{"rank mismatch", nil, Expect{Rank: 32}, "r is 4, want 32"},
		{"missing module", nil, Expect{TargetModules: []string{"o_proj"}}, `lacks required module "o_proj"`},
		{"other base", nil, Expect{BaseModel: "org/other"}, "trained on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := NewConfig("org/base", 4, 8, []string{"q_proj", "v_proj"})
			if err := WriteLoRA(dir, c, 1, 4, 4); err != nil {
				t.Fatal(err)
			}
			if tc.mutate != nil {
				tc.mutate(&c)
				if err := WriteConfig(dir, c); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Validate(dir, tc.want)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.msg)
			}
		})
	}
}

// rawFile builds a safetensors file from a literal header and data size.
func rawFile(t *testing.T, dir string, header string, data int) {
	t.Helper()
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	if err := os.WriteFile(filepath.Join(dir, WeightsFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestValidateTensorRejections(t *testing.T) {
	const a = `"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"`
	const b = `"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"`
	tests := []struct {
		name   string
		header string
		data   int
		msg    string
	}{
		{"valid", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},` + b + `:{"dtype":"F32","shape":[3,4],"data_offsets":[32,80]}}`, 80, ""},
		{"not json", `{nope`, 0, "not a JSON object"},
		{"range past end", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]}}`, 16, "outside"},
		{"size mismatch", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,16]}}`, 16, "needs 32 bytes"},
		{"unknown dtype", `{` + a + `:{"dtype":"Q4","shape":[4,2],"data_offsets":[0,8]}}`, 8, "unknown dtype"},
		{"overlap", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},` + b + `:{"dtype":"F32","shape":[3,4],"data_offsets":[16,64]}}`, 80, "overlap"},
		{"missing B", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]}}`, 32, "lacks its lora_A or lora_B"},
		{"wrong rank", `{` + a + `:{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]},` + b + `:{"dtype":"F32","shape":[3,2],"data_offsets":[32,56]}}`, 56, "has rank 2"},
		{"B mismatch", `{` + a + `:{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},` + b + `:{"dtype":"F32","shape":[4,3],"data_offsets":[32,80]}}`, 80, "second dimension"},
		{"untargeted", `{"base_model.model.model.layers.0.mlp.up_proj.lora_A.weight":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]}}`, 32, "not in target_modules"},
		{"non-lora tensor", `{"lm_head.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`, 16, "not a LoRA weight"},
		{"empty", `{"__metadata__":{"format":"pt"}}`, 0, "no tensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteConfig(dir, NewConfig("", 4, 8, []string{"q_proj"})); err != nil {
				t.Fatal(err)
			}
			rawFile(t, dir, tc.header, tc.data)
			_, err := Validate(dir, Expect{})
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("valid adapter rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.msg)
			}
		})
	}
}

func TestValidateMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Validate(dir, Expect{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ConfigFile) {
		t.Fatalf("no config: %v", err)
	}
	if err := WriteConfig(dir, NewConfig("", 4, 8, []string{"q_proj"})); err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(dir, Expect{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), WeightsFile) {
		t.Fatalf("no weights: %v", err)
	}
	os.WriteFile(filepath.Join(dir, LegacyWeightsFile), []byte("pickle"), 0o644)
	if _, err := Validate(dir, Expect{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "pickle") {
		t.Fatalf("legacy weights: %v", err)
	}
}

func TestTargetModulesForms(t *testing.T) {
	tests := []struct {
		json   string
		module string
		match  bool
	}{
		{`["q_proj","v_proj"]`, "model.layers.0.self_attn.q_proj", true},
		{`["q_proj"]`, "model.layers.0.self_attn.xq_proj", false},
		{`".*\\.(q|v)_proj"`, "model.layers.3.self_attn.v_proj", true},
		{`".*\\.(q|v)_proj"`, "model.layers.3.self_attn.k_proj", false},
	}
	for _, tc := range tests {
		var c Config
		if err := json.Unmarshal([]byte(`{"target_modules":`+tc.json+`}`), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.targets(tc.module); got != tc.match {
			t.Errorf("%s targets %s = %v, want %v", tc.json, tc.module, got, tc.match)
		}
		out, err := json.Marshal(c.TargetModules)
		if err != nil || string(out) != tc.json {
			t.Errorf("round trip %s -> %s (%v)", tc.json, out, err)
		}
	}
}
