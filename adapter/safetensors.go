package adapter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/nlpodyssey/safetensors"
)

// maxHeaderBytes bounds the JSON header we are willing to read; the
// safetensors reference implementation uses the same 100 MB limit.
const maxHeaderBytes = 100 << 20

// dtypeSizes are the element sizes of the safetensors dtypes.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// TensorInfo is one entry of a safetensors header.
type TensorInfo struct {
	Name  string
	DType string
	Shape []int64
	// Begin and End are byte offsets into the data section (after the header).
	Begin, End int64
}

// Elements is the product of the shape (1 for a scalar).
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Header is a parsed safetensors header.
type Header struct {
	Tensors  []TensorInfo // sorted by Begin offset
	Metadata map[string]string
	DataSize int64 // bytes after the header
}

// ReadHeader parses and checks the header of a safetensors file, reading
// only the header: adapters served from elsewhere can be gigabytes, and
// nlpodyssey/safetensors validates from a buffer holding the whole file.
// It checks that the header
// length fits the file, every dtype is known, every byte range lies inside
// the data section, ranges do not overlap, and each range's length equals
// the element count times the dtype size.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat safetensors: %w", err)
	}
	h, err := parseHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return h, nil
}

func parseHeader(r io.Reader, fileSize int64) (*Header, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n == 0 || n > maxHeaderBytes || int64(n) > fileSize-8 {
		return nil, fmt.Errorf("header length %d does not fit a %d-byte file", n, fileSize)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	h := &Header{DataSize: fileSize - 8 - int64(n)}
	for name, v := range entries {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &h.Metadata); err != nil {
				return nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		size, ok := dtypeSizes[e.DType]
		if !ok {
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("tensor %q: data_offsets must have 2 entries, got %d", name, len(e.DataOffsets))
		}
		t := TensorInfo{Name: name, DType: e.DType, Shape: e.Shape, Begin: e.DataOffsets[0], End: e.DataOffsets[1]}
		elems := int64(1)
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && elems > math.MaxInt64/d) {
				return nil, fmt.Errorf("tensor %q: bad shape %v", name, t.Shape)
			}
			elems *= d
		}
		if t.Begin < 0 || t.End < t.Begin || t.End > h.DataSize {
			return nil, fmt.Errorf("tensor %q: byte range [%d,%d) outside the %d-byte data section", name, t.Begin, t.End, h.DataSize)
		}
		if want := elems * size; t.End-t.Begin != want {
			return nil, fmt.Errorf("tensor %q: %s %v needs %d bytes, range holds %d", name, t.DType, t.Shape, want, t.End-t.Begin)
		}
		h.Tensors = append(h.Tensors, t)
	}
	sort.Slice(h.Tensors, func(i, j int) bool {
		if h.Tensors[i].Begin != h.Tensors[j].Begin {
			return h.Tensors[i].Begin < h.Tensors[j].Begin
		}
		return h.Tensors[i].Name < h.Tensors[j].Name
	})
	for i := 1; i < len(h.Tensors); i++ {
		prev, cur := h.Tensors[i-1], h.Tensors[i]
		if cur.Begin < prev.End {
			return nil, fmt.Errorf("tensors %q and %q overlap", prev.Name, cur.Name)
		}
	}
	return h, nil
}

// Tensor is one tensor to write with WriteSafetensors. Data holds the raw
// little-endian bytes; its length must match the shape and dtype.
type Tensor struct {
	Name  string
	DType string
	Shape []int64
	Data  []byte
}

// F32Tensor packs float32 values into a Tensor.
func F32Tensor(name string, shape []int64, values []float32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: "F32", Shape: shape, Data: b}
}

// WriteSafetensors writes tensors and metadata in the safetensors format,
// through github.com/nlpodyssey/safetensors (which orders the tensors as
// the reference writer does: by dtype alignment, then name).
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	views := make(map[string]safetensors.TensorView, len(tensors))
	for _, t := range tensors {
		dt, err := safetensors.ParseDType(t.DType)
		if err != nil {
			return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if _, dup := views[t.Name]; dup {
			return fmt.Errorf("tensor %q written twice", t.Name)
		}
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
			}
			shape[i] = uint64(d)
		}
		v, err := safetensors.NewTensorView(dt, shape, t.Data)
		if err != nil {
			return fmt.Errorf("tensor %q: %d bytes for %s %v: %w", t.Name, len(t.Data), t.DType, t.Shape, err)
		}
		views[t.Name] = v
	}
	b, err := safetensors.Serialize(views, metadata)
	if err != nil {
		return fmt.Errorf("encode safetensors: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

var errNoTensors = errors.New("no tensors")
