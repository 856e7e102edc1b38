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
// parameters, sized for two cores. A base that ships with sia (bases.go) is
// loaded; any other is pretrained on first use and cached
// (docs/benchmarks.md has the time). Half the steps leave the demo's model
// near zero accuracy, so do not shorten the schedule.
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
// checkpoint for this corpus and configuration exists; otherwise taken from
// the bases that ship with sia (bases.go) when one matches, or else
// pretrained on corpus (progress reports each step); either way saved there
// atomically, so a cancelled or concurrent run never leaves a partial file
// under the final name. cacheDir "" means DefaultCacheDir. It returns the
// checkpoint path.
func BaseFor(ctx context.Context, taskName string, corpus [][]int, cfg BaseConfig, cacheDir string, progress func(step, total int, loss float64)) (*tinylm.Model, string, error) {
	return baseFor(ctx, taskName, corpus, cfg, cacheDir, progress, shippedBases())
}

func baseFor(ctx context.Context, taskName string, corpus [][]int, cfg BaseConfig, cacheDir string, progress func(step, total int, loss float64), sh shipped) (*tinylm.Model, string, error) {
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
	key := CacheKey(corpus, cfg)
	name := safeName(taskName) + "-" + key[:16] + ".safetensors"
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
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("base model cache: %w", err)
	}
	if data, ok, err := sh.lookup(key); err != nil {
		return nil, "", fmt.Errorf("base model for task %q: %w", taskName, err)
	} else if ok {
		if err := writeAtomic(cacheDir, name, func(tmp string) error { return os.WriteFile(tmp, data, 0o644) }); err != nil {
			return nil, "", err
		}
		m, err := tinylm.Load(path)
		if err != nil {
			return nil, "", fmt.Errorf("load shipped base %q: %w", path, err)
		}
		return m, path, nil
	}
	opt := cfg.Pretrain
	opt.Progress = progress
	m, err := tinylm.Pretrain(ctx, cfg.Model, corpus, opt)
	if err != nil {
		return nil, "", fmt.Errorf("pretrain base for task %q: %w", taskName, err)
	}
	if err := writeAtomic(cacheDir, name, m.Save); err != nil {
		return nil, "", err
	}
	return m, path, nil
}

// writeAtomic writes dir/name through write on a temporary file in dir,
// renamed into place.
func writeAtomic(dir, name string, write func(path string) error) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	tmp := filepath.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:])+"-"+name)
	if err := write(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save base %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save base %q: %w", filepath.Join(dir, name), err)
	}
	return nil
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
