package tinker

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The Tinker SDK's binary wire (package tinker_public, proto3), used for
// forward_backward when the server's client config sets proto_write_fwdbwd,
// and for ForwardBackwardOutput and SampleResponse results when
// retrieve_future answers application/x-protobuf. Field numbers and types
// are those of the SDK's generated descriptor
// (src/tinker/proto/tinker_public_pb2.py); the encoding follows the SDK's
// request_conv.py and response_conv.py: token ids packed as little-endian
// int32 bytes, dense tensors as little-endian bytes of their dtype, batched
// outputs sliced by int64 byte offsets.

// ProtoContentType is the media type of the binary wire.
const ProtoContentType = "application/x-protobuf"

// DType values of tinker_public.DType.
const (
	dtypeFloat32  = 1
	dtypeInt64    = 2
	dtypeInt32    = 3
	dtypeBFloat16 = 4
)

// Field numbers of the messages used here.
const (
	fbReqModelID      = 1 // string
	fbReqSeqID        = 2 // int32
	fbReqData         = 3 // repeated Datum
	fbReqLossFn       = 4 // string
	fbReqLossFnConfig = 5 // map<string, double>

	datumModelInput   = 1 // repeated Chunk
	datumLossFnInputs = 2 // map<string, Tensor>

	chunkEncodedText = 1 // EncodedTextChunk (oneof chunk)
	encodedTokens    = 1 // bytes: int32 little-endian

	tensorDense = 1 // bytes (oneof encoding)
	tensorDType = 3 // DType
	tensorShape = 4 // repeated int64

	mapKey   = 1
	mapValue = 2

	fbOutType    = 1 // string
	fbOutOutputs = 2 // repeated ArrayRecord
	fbOutMetrics = 3 // map<string, double>

	recordTypeTag   = 1 // string
	recordFields    = 2 // map<string, BatchedTensor>
	recordNumDatums = 3 // int64

	batchedData          = 1 // bytes
	batchedOffsets       = 2 // bytes: int64 little-endian byte offsets
	batchedDType         = 3 // DType
	batchedTrailingShape = 4 // repeated int64

	sampleSequences      = 1 // repeated SampledSequence
	samplePromptLogprobs = 2 // bytes: float32 little-endian, NaN where missing
)

// encodeForwardBackward serialises a forward_backward request as the SDK's
// forward_backward_request_to_proto does. Proto3 omits fields at their
// zero value; map entries are written in key order.
func encodeForwardBackward(r forwardBackwardRequest) ([]byte, error) {
	var b []byte
	b = appendString(b, fbReqModelID, r.ModelID)
	if r.SeqID != 0 {
		b = protowire.AppendTag(b, fbReqSeqID, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(int32(r.SeqID))))
	}
	for i, d := range r.ForwardBackwardInput.Data {
		msg, err := encodeDatum(d)
		if err != nil {
			return nil, fmt.Errorf("datum %d: %w", i, err)
		}
		b = protowire.AppendTag(b, fbReqData, protowire.BytesType)
		b = protowire.AppendBytes(b, msg)
	}
	b = appendString(b, fbReqLossFn, r.ForwardBackwardInput.LossFn)
	for _, k := range sortedKeys(r.ForwardBackwardInput.LossFnConfig) {
		var e []byte
		e = appendString(e, mapKey, k)
		e = protowire.AppendTag(e, mapValue, protowire.Fixed64Type)
		e = protowire.AppendFixed64(e, math.Float64bits(r.ForwardBackwardInput.LossFnConfig[k]))
		b = protowire.AppendTag(b, fbReqLossFnConfig, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b, nil
}

func encodeDatum(d datum) ([]byte, error) {
	var b []byte
	for _, c := range d.ModelInput.Chunks {
		if c.Type != "encoded_text" {
			return nil, fmt.Errorf("chunk type %q has no binary form here", c.Type)
		}
		toks := make([]byte, 0, 4*len(c.Tokens))
		for _, t := range c.Tokens {
			if t < math.MinInt32 || t > math.MaxInt32 {
				return nil, fmt.Errorf("token %d does not fit int32", t)
			}
			toks = binary.LittleEndian.AppendUint32(toks, uint32(int32(t)))
		}
		var text []byte
		if len(toks) > 0 {
			text = protowire.AppendTag(text, encodedTokens, protowire.BytesType)
			text = protowire.AppendBytes(text, toks)
		}
		var chunk []byte
		chunk = protowire.AppendTag(chunk, chunkEncodedText, protowire.BytesType)
		chunk = protowire.AppendBytes(chunk, text)
		b = protowire.AppendTag(b, datumModelInput, protowire.BytesType)
		b = protowire.AppendBytes(b, chunk)
	}
	for _, k := range sortedKeys(d.LossFnInputs) {
		t, err := encodeTensor(d.LossFnInputs[k])
		if err != nil {
			return nil, fmt.Errorf("loss_fn_inputs[%s]: %w", k, err)
		}
		var e []byte
		e = appendString(e, mapKey, k)
		e = protowire.AppendTag(e, mapValue, protowire.BytesType)
		e = protowire.AppendBytes(e, t)
		b = protowire.AppendTag(b, datumLossFnInputs, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b, nil
}

// encodeTensor writes a dense tensor: its values as little-endian bytes of
// its dtype, the dtype, and the shape (packed, as proto3 writes it).
func encodeTensor(t tensorData) ([]byte, error) {
	var dense []byte
	var dtype uint64
	switch x := t.Data.(type) {
	case []int:
		if t.DType != "int64" {
			return nil, fmt.Errorf("int data with dtype %q", t.DType)
		}
		dtype = dtypeInt64
		dense = make([]byte, 0, 8*len(x))
		for _, v := range x {
			dense = binary.LittleEndian.AppendUint64(dense, uint64(int64(v)))
		}
	case []float32:
		if t.DType != "float32" {
			return nil, fmt.Errorf("float data with dtype %q", t.DType)
		}
		dtype = dtypeFloat32
		dense = make([]byte, 0, 4*len(x))
		for _, v := range x {
			dense = binary.LittleEndian.AppendUint32(dense, math.Float32bits(v))
		}
	default:
		return nil, fmt.Errorf("tensor data of type %T has no binary form", t.Data)
	}
	var b []byte
	b = protowire.AppendTag(b, tensorDense, protowire.BytesType)
	b = protowire.AppendBytes(b, dense)
	b = protowire.AppendTag(b, tensorDType, protowire.VarintType)
	b = protowire.AppendVarint(b, dtype)
	if len(t.Shape) > 0 {
		var packed []byte
		for _, s := range t.Shape {
			packed = protowire.AppendVarint(packed, uint64(int64(s)))
		}
		b = protowire.AppendTag(b, tensorShape, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	}
	return b, nil
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint and fixed values
	b   []byte // length-delimited values
}

// fields splits a message into its fields.
func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

// decodeForwardBackwardOutput reads a ForwardBackwardOutput into the JSON
// result's shape, as the SDK's deserialize_forward_backward_output does:
// per-field BatchedTensors are sliced into per-datum tensors by byte
// offset, bfloat16 widened to float32 and int32 to int64.
func decodeForwardBackwardOutput(b []byte) (*forwardBackwardOutput, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, fmt.Errorf("ForwardBackwardOutput: %w", err)
	}
	out := &forwardBackwardOutput{Metrics: map[string]float64{}}
	type column struct {
		dtype    string
		trailing []int
		datums   [][]float64
	}
	cols := map[string]*column{}
	var order []string
	numDatums := 0
	for _, f := range fs {
		switch f.num {
		case fbOutType:
			out.LossFnOutputType = string(f.b)
		case fbOutMetrics:
			k, v, err := mapEntry(f.b)
			if err != nil {
				return nil, fmt.Errorf("metrics: %w", err)
			}
			out.Metrics[string(k.b)] = math.Float64frombits(v.v)
		case fbOutOutputs:
			rec, err := fields(f.b)
			if err != nil {
				return nil, fmt.Errorf("loss_fn_outputs: %w", err)
			}
			for _, rf := range rec {
				switch rf.num {
				case recordNumDatums:
					numDatums += int(int64(rf.v))
				case recordFields:
					k, v, err := mapEntry(rf.b)
					if err != nil {
						return nil, fmt.Errorf("loss_fn_outputs fields: %w", err)
					}
					name := string(k.b)
					dtype, trailing, datums, err := decodeBatched(v.b)
					if err != nil {
						return nil, fmt.Errorf("loss_fn_outputs[%s]: %w", name, err)
					}
					c := cols[name]
					if c == nil {
						c = &column{dtype: dtype, trailing: trailing}
						cols[name] = c
						order = append(order, name)
					}
					c.datums = append(c.datums, datums...)
				}
			}
		}
	}
	if i := strings.LastIndex(out.LossFnOutputType, ":"); i >= 0 {
		out.LossFnOutputType = out.LossFnOutputType[i+1:]
	}
	if numDatums == 0 && len(order) > 0 {
		numDatums = len(cols[order[0]].datums)
	}
	out.LossFnOutputs = make([]map[string]json.RawMessage, numDatums)
	for i := range out.LossFnOutputs {
		m := map[string]json.RawMessage{}
		for _, name := range order {
			c := cols[name]
			if i >= len(c.datums) {
				return nil, fmt.Errorf("loss_fn_outputs[%s]: %d datums, want %d", name, len(c.datums), numDatums)
			}
			vals := c.datums[i]
			per := 1
			for _, s := range c.trailing {
				per *= s
			}
			shape := append([]int{0}, c.trailing...)
			if per > 0 {
				shape[0] = len(vals) / per
			}
			raw, err := json.Marshal(map[string]any{"data": vals, "dtype": c.dtype, "shape": shape})
			if err != nil {
				return nil, err
			}
			m[name] = raw
		}
		out.LossFnOutputs[i] = m
	}
	return out, nil
}

// mapEntry splits a map entry into its key and value fields.
func mapEntry(b []byte) (k, v field, err error) {
	fs, err := fields(b)
	if err != nil {
		return k, v, err
	}
	for _, f := range fs {
		switch f.num {
		case mapKey:
			k = f
		case mapValue:
			v = f
		}
	}
	return k, v, nil
}

// decodeBatched reads a BatchedTensor into per-datum values.
func decodeBatched(b []byte) (dtype string, trailing []int, datums [][]float64, err error) {
	fs, err := fields(b)
	if err != nil {
		return "", nil, nil, err
	}
	var data, offs []byte
	var dt uint64
	for _, f := range fs {
		switch f.num {
		case batchedData:
			data = f.b
		case batchedOffsets:
			offs = f.b
		case batchedDType:
			dt = f.v
		case batchedTrailingShape:
			if f.typ == protowire.BytesType { // packed
				for p := f.b; len(p) > 0; {
					v, n := protowire.ConsumeVarint(p)
					if n < 0 {
						return "", nil, nil, protowire.ParseError(n)
					}
					trailing = append(trailing, int(int64(v)))
					p = p[n:]
				}
			} else {
				trailing = append(trailing, int(int64(f.v)))
			}
		}
	}
	var size int
	var read func([]byte) float64
	switch dt {
	case dtypeFloat32:
		dtype, size = "float32", 4
		read = func(p []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(p))) }
	case dtypeBFloat16:
		dtype, size = "float32", 2
		read = func(p []byte) float64 {
			return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(p)) << 16))
		}
	case dtypeInt64:
		dtype, size = "int64", 8
		read = func(p []byte) float64 { return float64(int64(binary.LittleEndian.Uint64(p))) }
	case dtypeInt32:
		dtype, size = "int64", 4
		read = func(p []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(p))) }
	default:
		return "", nil, nil, fmt.Errorf("unsupported dtype %d", dt)
	}
	if len(offs)%8 != 0 {
		return "", nil, nil, errors.New("offsets are not int64s")
	}
	for i := 0; i+16 <= len(offs); i += 8 {
		lo := int64(binary.LittleEndian.Uint64(offs[i:]))
		hi := int64(binary.LittleEndian.Uint64(offs[i+8:]))
		if lo < 0 || hi < lo || hi > int64(len(data)) || (hi-lo)%int64(size) != 0 {
			return "", nil, nil, fmt.Errorf("offsets [%d, %d) do not fit %d data bytes", lo, hi, len(data))
		}
		vals := make([]float64, 0, (hi-lo)/int64(size))
		for p := lo; p < hi; p += int64(size) {
			vals = append(vals, read(data[p:p+int64(size)]))
		}
		datums = append(datums, vals)
	}
	return dtype, trailing, datums, nil
}

// decodeSampleResult reads the prompt logprobs of a SampleResponse (NaN
// marks a missing position, as the SDK writes it).
func decodeSampleResult(b []byte) (*sampleResult, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, fmt.Errorf("SampleResponse: %w", err)
	}
	out := &sampleResult{}
	for _, f := range fs {
		if f.num != samplePromptLogprobs {
			continue
		}
		if len(f.b)%4 != 0 {
			return nil, errors.New("SampleResponse: prompt_logprobs is not float32s")
		}
		out.PromptLogprobs = make([]*float64, len(f.b)/4)
		for i := range out.PromptLogprobs {
			v := float64(math.Float32frombits(binary.LittleEndian.Uint32(f.b[4*i:])))
			if !math.IsNaN(v) {
				out.PromptLogprobs[i] = &v
			}
		}
	}
	return out, nil
}

// decodeProtoResult decodes a binary future result into out, for the
// result types the SDK reads in binary.
func decodeProtoResult(b []byte, out any) error {
	switch o := out.(type) {
	case *forwardBackwardOutput:
		r, err := decodeForwardBackwardOutput(b)
		if err != nil {
			return err
		}
		*o = *r
	case *sampleResult:
		r, err := decodeSampleResult(b)
		if err != nil {
			return err
		}
		*o = *r
	default:
		return fmt.Errorf("a binary result for %T is not expected", out)
	}
	return nil
}
