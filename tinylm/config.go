package tinylm

import (
	"errors"
	"fmt"
)

// Config holds the model's hyperparameters. The zero value is usable: New
// fills every zero field with its default. It is stored in every checkpoint.
type Config struct {
	Vocab   int   `json:"vocab"`   // default: TokenizerVocab (256 bytes + specials)
	DModel  int   `json:"d_model"` // default 128
	Layers  int   `json:"layers"`  // default 4
	Heads   int   `json:"heads"`   // default 4; must divide DModel
	MLP     int   `json:"mlp"`     // hidden width of the MLP, default 512
	Context int   `json:"context"` // longest sequence, default 256
	Seed    int64 `json:"seed"`    // seed of the weight initialisation
}

// Defaults of Config.
const (
	DefaultDModel  = 128
	DefaultLayers  = 4
	DefaultHeads   = 4
	DefaultMLP     = 512
	DefaultContext = 256
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Vocab == 0 {
		c.Vocab = TokenizerVocab
	}
	if c.DModel == 0 {
		c.DModel = DefaultDModel
	}
	if c.Layers == 0 {
		c.Layers = DefaultLayers
	}
	if c.Heads == 0 {
		c.Heads = DefaultHeads
	}
	if c.MLP == 0 {
		c.MLP = DefaultMLP
	}
	if c.Context == 0 {
		c.Context = DefaultContext
	}
	return c
}

// maxDim bounds every size so that products of sizes stay far from int
// overflow and a typo cannot ask for terabytes.
const maxDim = 1 << 16

func (c Config) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab", c.Vocab}, {"d_model", c.DModel}, {"layers", c.Layers}, {"heads", c.Heads}, {"mlp", c.MLP}, {"context", c.Context}} {
		if f.v <= 0 || f.v > maxDim {
			errs = append(errs, fmt.Errorf("%s %d out of range [1, %d]", f.name, f.v, maxDim))
		}
	}
	if c.Heads > 0 && c.DModel%c.Heads != 0 {
		errs = append(errs, fmt.Errorf("d_model %d is not a multiple of heads %d", c.DModel, c.Heads))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid tinylm config: %w", err)
	}
	return nil
}

// headDim is the width of one attention head.
func (c Config) headDim() int { return c.DModel / c.Heads }
