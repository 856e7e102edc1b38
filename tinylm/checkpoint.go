package tinylm

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/nlpodyssey/safetensors"

	"github.com/sia-agent/sia/internal/atomicfile"
)

// checkpoint.go: model checkpoints in safetensors, and the content hash.
// github.com/nlpodyssey/safetensors does the file format (header, offsets,
// validation); this file maps tensors to and from float32 slices.

// metaConfig is the safetensors metadata key that holds the Config as JSON.
const metaConfig = "tinylm.config"

// Hash returns a content hash (hex SHA-256) of the configuration and every
// base weight, for cache keys. Equal models have equal hashes; Save/Load
// preserves it.
func (m *Model) Hash() string {
	h := sha256.New()
	cfg, _ := json.Marshal(m.cfg) // a struct of ints cannot fail
	h.Write(cfg)
	var buf []byte
	for _, p := range m.params() {
		h.Write([]byte(p.name))
		buf = appendFloats(buf[:0], p.w)
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func appendFloats(b []byte, xs []float32) []byte {
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func readFloats(dst []float32, b []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// writeTensors writes tensors to path atomically (temp file + rename).
func writeTensors(path string, ts []*tensor, meta map[string]string) error {
	views := make(map[string]safetensors.TensorView, len(ts))
	for _, t := range ts {
		shape := make([]uint64, len(t.shape))
		for i, s := range t.shape {
			shape[i] = uint64(s)
		}
		v, err := safetensors.NewTensorView(safetensors.F32, shape, appendFloats(nil, t.w))
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.name, err)
		}
		views[t.name] = v
	}
	data, err := safetensors.Serialize(views, meta)
	if err != nil {
		return fmt.Errorf("serialize: %w", err)
	}
	return atomicfile.Write(path, data)
}

// readTensors fills ts from the safetensors file data, checking names,
// dtypes and shapes; every tensor in ts must be present.
func readTensors(st safetensors.SafeTensors, ts []*tensor) error {
	for _, t := range ts {
		v, ok := st.Tensor(t.name)
		if !ok {
			return fmt.Errorf("tensor %q missing", t.name)
		}
		if v.DType() != safetensors.F32 {
			return fmt.Errorf("tensor %q has dtype %s, want F32", t.name, v.DType())
		}
		shape := v.Shape()
		same := len(shape) == len(t.shape)
		for i := 0; same && i < len(shape); i++ {
			same = shape[i] == uint64(t.shape[i])
		}
		if !same {
			return fmt.Errorf("tensor %q has shape %v, want %v", t.name, shape, t.shape)
		}
		readFloats(t.w, v.Data())
	}
	return nil
}

// Save writes the model to a safetensors file at path (atomically), with
// the Config in the metadata.
func (m *Model) Save(path string) (err error) {
	defer recoverInto(&err, "save")
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return fmt.Errorf("save model %q: %w", path, err)
	}
	meta := map[string]string{"format": "pt", metaConfig: string(cfg)}
	if err := writeTensors(path, m.params(), meta); err != nil {
		return fmt.Errorf("save model %q: %w", path, err)
	}
	return nil
}

// Load reads a model written by Save.
func Load(path string) (m *Model, err error) {
	defer recoverInto(&err, "load")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", path, err)
	}
	_, md, err := safetensors.ReadMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", path, err)
	}
	raw, ok := md.Metadata()[metaConfig]
	if !ok {
		return nil, fmt.Errorf("load model %q: no %s metadata (not a tinylm checkpoint)", path, metaConfig)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, fmt.Errorf("load model %q: config: %w", path, err)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("load model %q: %w", path, err)
	}
	m = newModel(cfg)
	if err := readTensors(st, m.params()); err != nil {
		return nil, fmt.Errorf("load model %q: %w", path, err)
	}
	m.refresh()
	return m, nil
}
