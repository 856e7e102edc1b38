package embedded

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sia-agent/sia/tinylm"
)

// BaseConfig is what a cached base checkpoint is made from: the model's
// shape and the pretraining schedule. Both enter the cache key.
type BaseConfig struct {
	Model    tinylm.Config
	Pretrain tinylm.PretrainOptions // Progress is ignored; pass it to BaseFor
}

// DemoBase is the embedded target's base, the same for every task: 0.13 M
// parameters, sized for two cores and pretrained on first use in about a
// minute and a half (92 s on the demo's corpus and on the cipher's, on the
// project's 2-core VM). Half the steps leave the demo's model near zero
// accuracy, so do not shorten the schedule.
func DemoBase() BaseConfig {
	return BaseConfig{
		Model:    tinylm.Config{DModel: 64, Layers: 2, Heads: 4, MLP: 192, Context: 128, Seed: 1},
		Pretrain: tinylm.PretrainOptions{Steps: 2000, BatchSeqs: 16, SeqLen: 128, LR: 3e-3, Seed: 1},
	}
}

// cacheFormat versions the cache key: bump it when the meaning of a
// checkpoint for the same corpus and config changes (tokenizer, template).
const cacheFormat = "sia-base-v1"

// DefaultCacheDir is os.UserCacheDir()/sia/models.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir: %w", err)
	}
	return filepath.Join(d, "sia", "models"), nil
}

// CacheKey is the hex SHA-256 of the corpus tokens and the configuration.
func CacheKey(corpus [][]int, cfg BaseConfig) string {
	h := sha256.New()
	h.Write([]byte(cacheFormat))
	p := cfg.Pretrain
	p.Progress = nil
	meta, _ := json.Marshal(struct { // plain values: cannot fail
		Model          tinylm.Config
		Steps, Batch   int
		SeqLen, Warmup int
		LR, WD         float64
		Seed           int64
		Vocab          int
	}{cfg.Model.WithDefaults(), p.Steps, p.BatchSeqs, p.SeqLen, p.WarmupSteps, p.LR, p.WeightDecay, p.Seed, tinylm.TokenizerVocab})
	h.Write(meta)
	var buf [8]byte
	for _, doc := range corpus {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(doc)))
		h.Write(buf[:])
		for _, id := range doc {
			binary.LittleEndian.PutUint32(buf[:4], uint32(id))
			h.Write(buf[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// BaseFor returns the base model for a task: loaded from the cache when a
// checkpoint for this corpus and configuration exists, otherwise pretrained
// on corpus (progress reports each step) and saved there atomically, so a
// cancelled or concurrent run never leaves a partial file under the final
// name. cacheDir "" means DefaultCacheDir. It returns the checkpoint path.
func BaseFor(ctx context.Context, taskName string, corpus [][]int, cfg BaseConfig, cacheDir string, progress func(step, total int, loss float64)) (*tinylm.Model, string, error) {
	if len(corpus) == 0 {
		return nil, "", fmt.Errorf("base model for task %q: empty pretraining corpus", taskName)
	}
	if cacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, "", fmt.Errorf("base model for task %q: %w", taskName, err)
		}
		cacheDir = d
	}
	name := safeName(taskName) + "-" + CacheKey(corpus, cfg)[:16] + ".safetensors"
	path := filepath.Join(cacheDir, name)
	if _, err := os.Stat(path); err == nil {
		m, err := tinylm.Load(path)
		if err != nil {
			return nil, "", fmt.Errorf("load cached base %q: %w (delete it to pretrain again)", path, err)
		}
		return m, path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("base model cache %q: %w", path, err)
	}
	opt := cfg.Pretrain
	opt.Progress = progress
	m, err := tinylm.Pretrain(ctx, cfg.Model, corpus, opt)
	if err != nil {
		return nil, "", fmt.Errorf("pretrain base for task %q: %w", taskName, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("base model cache: %w", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	tmp := filepath.Join(cacheDir, ".tmp-"+hex.EncodeToString(rnd[:])+"-"+name)
	if err := m.Save(tmp); err != nil {
		os.Remove(tmp)
		return nil, "", fmt.Errorf("save base %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, "", fmt.Errorf("save base %q: %w", path, err)
	}
	return m, path, nil
}

// safeName keeps a task name usable as a file name prefix.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		return "task"
	}
	return s
}
