package adapter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Expect is what the caller requires of an adapter beyond PEFT validity.
// Zero values mean "no requirement".
type Expect struct {
	// MaxRank is the serving engine's --max-lora-rank.
	MaxRank int
	// Rank, when set, must equal r.
	Rank int
	// TargetModules must all be declared in target_modules (list form).
	TargetModules []string
	// BaseModel must equal base_model_name_or_path when the adapter names one.
	BaseModel string
}

// Info describes a valid adapter.
type Info struct {
	Dir     string
	Config  Config
	Modules []string // module paths that carry a LoRA pair, sorted
	Tensors int
	Params  int64 // total LoRA parameters
	Bytes   int64 // size of adapter_model.safetensors
}

// ErrInvalid is wrapped by every validation failure, so callers can tell a
// broken adapter from an I/O problem.
var ErrInvalid = errors.New("invalid adapter")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks the PEFT adapter folder dir and returns what it holds.
func Validate(dir string, want Expect) (*Info, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("adapter folder: %w", err)
	}
	if !st.IsDir() {
		return nil, invalid("%s is not a folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
		return nil, invalid("%s has no %s", dir, ConfigFile)
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := checkConfig(cfg, want); err != nil {
		return nil, err
	}
	wpath := filepath.Join(dir, WeightsFile)
	wst, err := os.Stat(wpath)
	if err != nil {
		if _, lerr := os.Stat(filepath.Join(dir, LegacyWeightsFile)); lerr == nil {
			return nil, invalid("%s holds only %s (pickle); save with safe_serialization=True", dir, LegacyWeightsFile)
		}
		return nil, invalid("%s has no %s", dir, WeightsFile)
	}
	h, err := ReadHeader(wpath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	info := &Info{Dir: dir, Config: *cfg, Tensors: len(h.Tensors), Bytes: wst.Size()}
	if err := checkTensors(cfg, h, info); err != nil {
		return nil, err
	}
	return info, nil
}

func checkConfig(c *Config, want Expect) error {
	if !strings.EqualFold(c.PeftType, "LORA") {
		return invalid("peft_type is %q, want LORA", c.PeftType)
	}
	if c.R <= 0 {
		return invalid("r must be positive, got %d", c.R)
	}
	if c.LoraAlpha <= 0 {
		return invalid("lora_alpha must be positive, got %g", c.LoraAlpha)
	}
	if c.TargetModules.Empty() {
		return invalid("target_modules is empty")
	}
	if c.TargetModules.Regex != "" {
		if _, err := regexp.Compile(c.TargetModules.Regex); err != nil {
			return invalid("target_modules regex %q: %v", c.TargetModules.Regex, err)
		}
	}
	if len(c.ModulesToSave) > 0 {
		return invalid("modules_to_save %v is set; LoRA servers such as vLLM reject it", c.ModulesToSave)
	}
	if c.UseDoRA {
		return invalid("use_dora is true; LoRA servers such as vLLM reject DoRA")
	}
	if c.Bias != "" && c.Bias != "none" {
		return invalid("bias is %q; want \"none\"", c.Bias)
	}
	if want.Rank > 0 && c.R != want.Rank {
		return invalid("r is %d, want %d", c.R, want.Rank)
	}
	if want.MaxRank > 0 {
		if c.R > want.MaxRank {
			return invalid("r=%d exceeds the server's max LoRA rank %d", c.R, want.MaxRank)
		}
		for k, r := range c.RankPattern {
			if r > want.MaxRank {
				return invalid("rank_pattern[%q]=%d exceeds the server's max LoRA rank %d", k, r, want.MaxRank)
			}
		}
	}
	for _, m := range want.TargetModules {
		if c.TargetModules.Regex != "" {
			break // a regex cannot be compared by name; the tensor check covers it
		}
		found := false
		for _, have := range c.TargetModules.Names {
			if have == m {
				found = true
				break
			}
		}
		if !found {
			return invalid("target_modules %v lacks required module %q", c.TargetModules.Names, m)
		}
	}
	if want.BaseModel != "" && c.BaseModelNameOrPath != "" && c.BaseModelNameOrPath != want.BaseModel {
		return invalid("adapter was trained on %q, want %q", c.BaseModelNameOrPath, want.BaseModel)
	}
	return nil
}

// loraPart splits a tensor name into its module path and the LoRA side
// ("A" or "B"); ok is false for tensors that are not LoRA weights.
func loraPart(name string) (module, side string, ok bool) {
	for _, m := range []struct{ infix, side string }{
		{".lora_A.", "A"}, {".lora_B.", "B"},
		{".lora_embedding_A", "A"}, {".lora_embedding_B", "B"},
	} {
		if i := strings.Index(name, m.infix); i > 0 {
			module = strings.TrimPrefix(name[:i], "base_model.model.")
			return module, m.side, true
		}
	}
	return "", "", false
}

func (c *Config) targets(module string) bool {
	if c.TargetModules.Regex != "" {
		re, err := regexp.Compile("^(?:" + c.TargetModules.Regex + ")$")
		return err == nil && re.MatchString(module)
	}
	for _, t := range c.TargetModules.Names {
		if module == t || strings.HasSuffix(module, "."+t) {
			return true
		}
	}
	return false
}

func checkTensors(c *Config, h *Header, info *Info) error {
	if len(h.Tensors) == 0 {
		return invalid("%s: %v", WeightsFile, errNoTensors)
	}
	ranks := map[int64]bool{int64(c.R): true}
	for _, r := range c.RankPattern {
		ranks[int64(r)] = true
	}
	type pair struct{ a, b *TensorInfo }
	pairs := map[string]*pair{}
	for i := range h.Tensors {
		t := &h.Tensors[i]
		module, side, ok := loraPart(t.Name)
		if !ok {
			return invalid("tensor %q is not a LoRA weight (lora_A/lora_B)", t.Name)
		}
		switch t.DType {
		case "F32", "F16", "BF16":
		default:
			return invalid("tensor %q has dtype %s, want F32, F16 or BF16", t.Name, t.DType)
		}
		if len(t.Shape) != 2 {
			return invalid("tensor %q has shape %v, want 2 dimensions", t.Name, t.Shape)
		}
		if !c.targets(module) {
			return invalid("tensor %q: module %q is not in target_modules", t.Name, module)
		}
		p := pairs[module]
		if p == nil {
			p = &pair{}
			pairs[module] = p
		}
		if side == "A" {
			if p.a != nil {
				return invalid("module %q has two lora_A tensors", module)
			}
			p.a = t
		} else {
			if p.b != nil {
				return invalid("module %q has two lora_B tensors", module)
			}
			p.b = t
		}
		info.Params += t.Elements()
	}
	for module, p := range pairs {
		if p.a == nil || p.b == nil {
			return invalid("module %q lacks its lora_A or lora_B tensor", module)
		}
		// PEFT stores lora_A as [r, in] and lora_B as [out, r].
		r := p.a.Shape[0]
		if !ranks[r] {
			return invalid("tensor %q has rank %d, but adapter_config.json declares r=%d", p.a.Name, r, c.R)
		}
		if p.b.Shape[1] != r {
			return invalid("tensor %q has shape %v; its second dimension must equal lora_A's rank %d", p.b.Name, p.b.Shape, r)
		}
		info.Modules = append(info.Modules, module)
	}
	sort.Strings(info.Modules)
	return nil
}
