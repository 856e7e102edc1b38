package tinker

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The fake server reads and writes the binary wire through the official Go
// protobuf runtime (dynamicpb) over the SDK's own descriptor
// (testdata/tinker_public.desc.txtpb), so the hand-written encoder and
// decoder in proto.go are checked against an independent implementation.

var (
	sdkDescOnce sync.Once
	sdkDesc     protoreflect.FileDescriptor
	sdkDescErr  error
)

func sdkFile(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	sdkDescOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "tinker_public.desc.txtpb"))
		if err != nil {
			sdkDescErr = err
			return
		}
		var fdp descriptorpb.FileDescriptorProto
		if err := prototext.Unmarshal(b, &fdp); err != nil {
			sdkDescErr = err
			return
		}
		sdkDesc, sdkDescErr = protodesc.NewFile(&fdp, nil)
	})
	if sdkDescErr != nil {
		t.Fatalf("SDK descriptor: %v", sdkDescErr)
	}
	return sdkDesc
}

func sdkMessage(t *testing.T, name string) *dynamicpb.Message {
	t.Helper()
	md := sdkFile(t).Messages().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("descriptor has no %s", name)
	}
	return dynamicpb.NewMessage(md)
}

// protoFwdBwdToJSON parses a binary ForwardBackwardRequest with the SDK's
// descriptor and returns it in the JSON wire's shape (decoded JSON values),
// so one expectation checks both wires.
func protoFwdBwdToJSON(t *testing.T, raw []byte) (map[string]any, error) {
	m := sdkMessage(t, "ForwardBackwardRequest")
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(raw, m); err != nil {
		return nil, err
	}
	if len(m.GetUnknown()) > 0 {
		return nil, fmt.Errorf("unknown fields in request: %x", m.GetUnknown())
	}
	get := func(msg protoreflect.Message, name string) protoreflect.Value {
		return msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(name)))
	}
	var data []any
	list := get(m, "data").List()
	for i := range list.Len() {
		d := list.Get(i).Message()
		var chunks []any
		ch := get(d, "model_input").List()
		for j := range ch.Len() {
			c := ch.Get(j).Message()
			et := get(c, "encoded_text").Message()
			b := get(et, "tokens").Bytes()
			if len(b)%4 != 0 {
				return nil, fmt.Errorf("tokens: %d bytes is not int32s", len(b))
			}
			var toks []any
			for k := 0; k < len(b); k += 4 {
				toks = append(toks, float64(int32(binary.LittleEndian.Uint32(b[k:]))))
			}
			chunks = append(chunks, map[string]any{"type": "encoded_text", "tokens": toks})
		}
		inputs := map[string]any{}
		var err error
		get(d, "loss_fn_inputs").Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			tm := v.Message()
			dense := get(tm, "dense").Bytes()
			var vals []any
			var dtype string
			switch get(tm, "dtype").Enum() {
			case 1:
				dtype = "float32"
				for p := 0; p+4 <= len(dense); p += 4 {
					vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(dense[p:]))))
				}
			case 2:
				dtype = "int64"
				for p := 0; p+8 <= len(dense); p += 8 {
					vals = append(vals, float64(int64(binary.LittleEndian.Uint64(dense[p:]))))
				}
			default:
				err = fmt.Errorf("dtype %d", get(tm, "dtype").Enum())
				return false
			}
			var shape []any
			sl := get(tm, "shape").List()
			for s := range sl.Len() {
				shape = append(shape, float64(sl.Get(s).Int()))
			}
			inputs[k.String()] = map[string]any{"data": vals, "dtype": dtype, "shape": shape}
			return true
		})
		if err != nil {
			return nil, err
		}
		data = append(data, map[string]any{"model_input": map[string]any{"chunks": chunks}, "loss_fn_inputs": inputs})
	}
	fbi := map[string]any{"loss_fn": get(m, "loss_fn").String(), "data": data}
	if cfg := get(m, "loss_fn_config").Map(); cfg.Len() > 0 {
		c := map[string]any{}
		cfg.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			c[k.String()] = v.Float()
			return true
		})
		fbi["loss_fn_config"] = c
	}
	return map[string]any{"model_id": get(m, "model_id").String(), "seq_id": float64(get(m, "seq_id").Int()), "forward_backward_input": fbi}, nil
}

// protoFwdBwdOutput builds the binary ForwardBackwardOutput a server sends
// for n datums: one ArrayRecord whose "logprobs" field holds n tensors of
// lens[i] float32 values, sliced by int64 byte offsets.
func protoFwdBwdOutput(t *testing.T, lens []int, metrics map[string]float64) []byte {
	t.Helper()
	out := sdkMessage(t, "ForwardBackwardOutput")
	fd := out.Descriptor().Fields()
	out.Set(fd.ByName("loss_fn_output_type"), protoreflect.ValueOfString("tinker.types:ArrayRecord"))
	rec := out.Mutable(fd.ByName("loss_fn_outputs")).List().NewElement().Message()
	rfd := rec.Descriptor().Fields()
	rec.Set(rfd.ByName("type_tag"), protoreflect.ValueOfString("logprobs"))
	rec.Set(rfd.ByName("num_datums"), protoreflect.ValueOfInt64(int64(len(lens))))
	bt := rec.Mutable(rfd.ByName("fields")).Map().NewValue().Message()
	bfd := bt.Descriptor().Fields()
	var data, offs []byte
	offs = binary.LittleEndian.AppendUint64(offs, 0)
	for i, n := range lens {
		for j := range n {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(-0.25*float32(i+1)-float32(j)))
		}
		offs = binary.LittleEndian.AppendUint64(offs, uint64(len(data)))
	}
	bt.Set(bfd.ByName("data"), protoreflect.ValueOfBytes(data))
	bt.Set(bfd.ByName("offsets"), protoreflect.ValueOfBytes(offs))
	bt.Set(bfd.ByName("dtype"), protoreflect.ValueOfEnum(1))
	rec.Mutable(rfd.ByName("fields")).Map().Set(protoreflect.ValueOfString("logprobs").MapKey(), protoreflect.ValueOfMessage(bt))
	out.Mutable(fd.ByName("loss_fn_outputs")).List().Append(protoreflect.ValueOfMessage(rec))
	mm := out.Mutable(fd.ByName("metrics")).Map()
	for k, v := range metrics {
		mm.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfFloat64(v))
	}
	b, err := proto.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// protoSampleResponse builds a binary SampleResponse whose prompt logprobs
// are lp (NaN where missing), with one sampled token.
func protoSampleResponse(t *testing.T, lp []float32) []byte {
	t.Helper()
	m := sdkMessage(t, "SampleResponse")
	fd := m.Descriptor().Fields()
	var b []byte
	for _, v := range lp {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	m.Set(fd.ByName("prompt_logprobs"), protoreflect.ValueOfBytes(b))
	seq := m.Mutable(fd.ByName("sequences")).List().NewElement().Message()
	sfd := seq.Descriptor().Fields()
	seq.Set(sfd.ByName("stop_reason"), protoreflect.ValueOfEnum(1))
	seq.Set(sfd.ByName("tokens"), protoreflect.ValueOfBytes(binary.LittleEndian.AppendUint32(nil, 0)))
	m.Mutable(fd.ByName("sequences")).List().Append(protoreflect.ValueOfMessage(seq))
	out, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
