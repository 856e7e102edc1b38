package tinker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
)

// grpoWantFB is the forward_backward request GRPORoundTrip's rollouts
// produce (JSON wire shape), whichever wire carries it.
func grpoWantFB() map[string]any {
	a := (1 - 0.5) / (0.5 + rl.GroupEps)
	return map[string]any{
		"model_id": "model-1", "seq_id": 1.0,
		"forward_backward_input": map[string]any{
			"loss_fn": "importance_sampling",
			"data": []any{
				map[string]any{
					"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []any{10.0, 11.0, 12.0, 20.0}}}},
					"loss_fn_inputs": map[string]any{
						"target_tokens": map[string]any{"data": []any{11.0, 12.0, 20.0, 21.0}, "dtype": "int64", "shape": []any{4.0}},
						"logprobs":      map[string]any{"data": []any{0.0, 0.0, -0.1, -0.2}, "dtype": "float32", "shape": []any{4.0}},
						"advantages":    map[string]any{"data": []any{0.0, 0.0, a, a}, "dtype": "float32", "shape": []any{4.0}},
					},
				},
				map[string]any{
					"model_input": map[string]any{"chunks": []any{map[string]any{"type": "encoded_text", "tokens": []any{10.0, 11.0, 12.0}}}},
					"loss_fn_inputs": map[string]any{
						"target_tokens": map[string]any{"data": []any{11.0, 12.0, 22.0}, "dtype": "int64", "shape": []any{3.0}},
						"logprobs":      map[string]any{"data": []any{0.0, 0.0, -0.3}, "dtype": "float32", "shape": []any{3.0}},
						"advantages":    map[string]any{"data": []any{0.0, 0.0, -a}, "dtype": "float32", "shape": []any{3.0}},
					},
				},
			},
		},
	}
}

// TestBinaryWire runs a weight update against a server whose client/config
// turns on the SDK's binary forward_backward (compressed or not), answers
// ForwardBackward futures in the binary wire and sends size metadata first,
// as the current SDK expects; the request must parse with the official
// protobuf runtime over the SDK's descriptor to the same content as the
// JSON wire.
func TestBinaryWire(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := "plain"
		if compress {
			name = "zstd"
		}
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.archive = peftArchive(t, 32)
			f.serverConfig = map[string]any{"proto_write_fwdbwd": true, "proto_compress_fwdbwd": compress, "use_pyqwest_transport": true}
			f.protoResults, f.metadataFirst = true, true
			var mu sync.Mutex
			var events []Event
			cfg := testConfig(f)
			cfg.OnEvent = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			tr, _ := New(context.Background(), cfg)
			res, err := tr.Train(context.Background(), train.Request{Run: "r", Gen: 1, Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1,
				OutDir: filepath.Join(t.TempDir(), "adapter")})
			if err != nil {
				t.Fatal(err)
			}
			cc := f.routeCalls("client/config")
			if len(cc) != 1 || diff("client/config", cc[0].Body, js(map[string]any{"sdk_version": SDKVersion})) != "" {
				t.Errorf("client/config calls %+v", cc)
			}
			fb := f.routeCalls("forward_backward")
			if len(fb) != 1 {
				t.Fatalf("forward_backward called %d times", len(fb))
			}
			if ct := fb[0].Header.Get("Content-Type"); ct != ProtoContentType {
				t.Errorf("Content-Type %q", ct)
			}
			if enc := fb[0].Header.Get("Content-Encoding"); (enc == "zstd") != compress {
				t.Errorf("Content-Encoding %q, compress %v", enc, compress)
			}
			if d := diff("forward_backward", fb[0].Body, grpoWantFB()); d != "" {
				t.Error(d)
			}
			// Other bodies stay JSON.
			if ct := f.routeCalls("optim_step")[0].Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("optim_step Content-Type %q", ct)
			}
			// Binary results are asked for ForwardBackward only; every
			// future's first poll allows metadata, the next does not.
			byType := map[string][]call{}
			for _, p := range f.routeCalls("retrieve_future") {
				typ := p.Header.Get("X-Tinker-Request-Type")
				byType[typ] = append(byType[typ], p)
			}
			for typ, polls := range byType {
				wantAccept := "application/json"
				if typ == "ForwardBackward" {
					wantAccept = ProtoContentType + ", application/json"
				}
				if got := polls[0].Header.Get("Accept"); got != wantAccept {
					t.Errorf("%s polls Accept %q, want %q", typ, got, wantAccept)
				}
				last := polls[len(polls)-1]
				if polls[0].Body["allow_metadata_only"] != true || last.Body["allow_metadata_only"] != false {
					t.Errorf("%s polls allow_metadata_only %v … %v", typ, polls[0].Body["allow_metadata_only"], last.Body["allow_metadata_only"])
				}
			}
			// The binary result's metrics arrived.
			if res.Metrics["loss:sum"] != 3 {
				t.Errorf("metrics %v", res.Metrics)
			}
			if len(events) == 0 || events[0].Kind != "config" || !strings.Contains(events[0].Message, "protobuf") {
				t.Errorf("events %+v", events)
			}
		})
	}
}

// TestWireChoice: the server's flag picks the wire unless Config.Wire
// forces one; a server without client/config (SkyRL-tx) gets JSON.
func TestWireChoice(t *testing.T) {
	tests := []struct {
		name   string
		server map[string]any
		wire   string
		want   string
	}{
		{"no config route", nil, "", "application/json"},
		{"flag off", map[string]any{"proto_write_fwdbwd": false}, "", "application/json"},
		{"flag on", map[string]any{"proto_write_fwdbwd": true}, "", ProtoContentType},
		{"forced json", map[string]any{"proto_write_fwdbwd": true}, WireJSON, "application/json"},
		{"forced protobuf", nil, WireProtobuf, ProtoContentType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.serverConfig = tt.server
			cfg := testConfig(f)
			cfg.SkipDownload, cfg.Wire = true, tt.wire
			tr, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			fb := f.routeCalls("forward_backward")
			if got := fb[0].Header.Get("Content-Type"); got != tt.want {
				t.Errorf("Content-Type %q, want %q", got, tt.want)
			}
			if d := diff("forward_backward", fb[0].Body, grpoWantFB()); d != "" {
				t.Error(d)
			}
		})
	}
	if _, err := New(context.Background(), Config{BaseModel: "m", Wire: "grpc"}); err == nil {
		t.Error("wire grpc accepted")
	}
}

// TestBinarySampleResults: reinforce_kl's base logprobs come back as the
// SDK's binary SampleResponse (float32 prompt logprobs, NaN first).
func TestBinarySampleResults(t *testing.T) {
	f := newFake(t)
	f.refLogprob = -0.5
	f.protoResults = true
	f.serverConfig = map[string]any{}
	cfg := testConfig(f)
	cfg.SkipDownload, cfg.KLCoef = true, 0.1
	tr, _ := New(context.Background(), cfg)
	res, err := tr.Train(context.Background(), train.Request{Algorithm: rl.ReinforceKL, Rollouts: grpoRollouts(2), Version: 3, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Metrics["kl_to_base"]-(-0.1+0.5-0.2+0.5-0.3+0.5-1+0.5-1+0.5-1+0.5)/6) > 1e-6 {
		t.Errorf("kl_to_base %v", res.Metrics["kl_to_base"])
	}
	for _, p := range f.routeCalls("retrieve_future") {
		if p.Header.Get("X-Tinker-Request-Type") == "Sample" && p.Header.Get("Accept") != ProtoContentType+", application/json" {
			t.Errorf("Sample poll Accept %q", p.Header.Get("Accept"))
		}
	}
}

// TestDecodeForwardBackwardOutput decodes outputs built with the official
// runtime: several records, each dtype the SDK widens, a trailing shape.
func TestDecodeForwardBackwardOutput(t *testing.T) {
	out := sdkMessage(t, "ForwardBackwardOutput")
	fd := out.Descriptor().Fields()
	out.Set(fd.ByName("loss_fn_output_type"), protoreflect.ValueOfString("tinker.types:ArrayRecord"))
	add := func(num int64, name string, dtype int32, data []byte, offs []int64, trailing []int64) {
		rec := out.Mutable(fd.ByName("loss_fn_outputs")).List().NewElement().Message()
		rfd := rec.Descriptor().Fields()
		rec.Set(rfd.ByName("num_datums"), protoreflect.ValueOfInt64(num))
		bt := rec.Mutable(rfd.ByName("fields")).Map().NewValue().Message()
		bfd := bt.Descriptor().Fields()
		var ob []byte
		for _, o := range offs {
			ob = binary.LittleEndian.AppendUint64(ob, uint64(o))
		}
		bt.Set(bfd.ByName("data"), protoreflect.ValueOfBytes(data))
		bt.Set(bfd.ByName("offsets"), protoreflect.ValueOfBytes(ob))
		bt.Set(bfd.ByName("dtype"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(dtype)))
		ts := bt.Mutable(bfd.ByName("trailing_shape")).List()
		for _, s := range trailing {
			ts.Append(protoreflect.ValueOfInt64(s))
		}
		rec.Mutable(rfd.ByName("fields")).Map().Set(protoreflect.ValueOfString(name).MapKey(), protoreflect.ValueOfMessage(bt))
		out.Mutable(fd.ByName("loss_fn_outputs")).List().Append(protoreflect.ValueOfMessage(rec))
	}
	// Record 1: two datums of bfloat16 (1.5 and -2 are exact in bf16).
	bf := func(v float32) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(math.Float32bits(v)>>16)) }
	d1 := append(append(bf(1.5), bf(-2)...), bf(0.25)...)
	add(2, "logprobs", dtypeBFloat16, d1, []int64{0, 4, 6}, []int64{1})
	// Record 2: one datum of int32. The SDK keeps each field's dtype and
	// trailing shape from its first record.
	var d2 []byte
	for _, v := range []int32{7, -8, 9, 10} {
		d2 = binary.LittleEndian.AppendUint32(d2, uint32(v))
	}
	add(1, "logprobs", dtypeInt32, d2, []int64{0, 16}, []int64{1})
	out.Mutable(fd.ByName("metrics")).Map().Set(protoreflect.ValueOfString("loss:sum").MapKey(), protoreflect.ValueOfFloat64(2.5))
	b, err := proto.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeForwardBackwardOutput(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.LossFnOutputType != "ArrayRecord" || got.Metrics["loss:sum"] != 2.5 || len(got.LossFnOutputs) != 3 {
		t.Fatalf("decoded %+v", got)
	}
	want := []string{
		`{"data":[1.5,-2],"dtype":"float32","shape":[2,1]}`,
		`{"data":[0.25],"dtype":"float32","shape":[1,1]}`,
		`{"data":[7,-8,9,10],"dtype":"float32","shape":[4,1]}`,
	}
	for i, w := range want {
		if string(got.LossFnOutputs[i]["logprobs"]) != w {
			t.Errorf("datum %d: %s, want %s", i, got.LossFnOutputs[i]["logprobs"], w)
		}
	}
	if _, err := decodeForwardBackwardOutput([]byte{0x0a, 0xff}); err == nil {
		t.Error("truncated message decoded")
	}
}

// TestBillingPauseAndRateLimits: 402 (billing) is waited out and 429 (rate
// limit) retried, on submissions, polls and the archive route, each with a
// clear event; a 402 that outlasts the pause fails with one clear error.
func TestBillingPauseAndRateLimits(t *testing.T) {
	f := newFake(t)
	f.archive = peftArchive(t, 32)
	f.serverConfig = map[string]any{}
	f.pay402 = map[string]int{"create_session": 2, "forward_backward": 1, "retrieve_future": 1, "archive": 1}
	f.rate429 = map[string]int{"optim_step": 2, "retrieve_future": 1}
	var mu sync.Mutex
	kinds := map[string][]string{}
	cfg := testConfig(f)
	cfg.OnEvent = func(e Event) { mu.Lock(); kinds[e.Kind] = append(kinds[e.Kind], e.Message); mu.Unlock() }
	tr, _ := New(context.Background(), cfg)
	if _, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: filepath.Join(t.TempDir(), "a")}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.routeCalls("create_session")); n != 3 {
		t.Errorf("create_session sent %d times, want 3 (two 402s)", n)
	}
	if n := len(f.routeCalls("optim_step")); n != 3 {
		t.Errorf("optim_step sent %d times, want 3 (two 429s)", n)
	}
	mu.Lock()
	if len(kinds["billing_pause"]) == 0 || !strings.Contains(kinds["billing_pause"][0], "HTTP 402 (billing: Access is blocked due to billing status)") {
		t.Errorf("billing events %q", kinds["billing_pause"])
	}
	if len(kinds["rate_limited"]) < 3 || !strings.Contains(kinds["rate_limited"][0], "HTTP 429 (rate limited); retrying in") {
		t.Errorf("rate-limit events %q", kinds["rate_limited"])
	}
	mu.Unlock()

	// A billing block longer than the pause ends the run with one line.
	f2 := newFake(t)
	f2.serverConfig = map[string]any{}
	f2.pay402 = map[string]int{"create_model": 1 << 30}
	cfg2 := testConfig(f2)
	cfg2.BillingPause = 30 * time.Millisecond
	tr2, _ := New(context.Background(), cfg2)
	_, err := tr2.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: t.TempDir()})
	var be *BillingError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "HTTP 402 (billing): Access is blocked due to billing status; paused and retried for") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}

// testJWT is an unsigned JWT whose exp is now+ttl.
func testJWT(ttl time.Duration) string {
	enc := base64.RawURLEncoding
	claims := fmt.Sprintf(`{"sub":"user","exp":%d}`, time.Now().Add(ttl).Unix())
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(claims)) + ".sig"
}

// TestJWTAuth: when client/config sets pjwt_auth_enabled, the API key is
// exchanged for a JWT (POST auth/token {}) that every later request sends
// as X-API-Key; a token with under a minute left is exchanged again.
func TestJWTAuth(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ttl       time.Duration
		exchanges func(int) bool
	}{
		{"long-lived", time.Hour, func(n int) bool { return n == 1 }},
		{"about to expire", 30 * time.Second, func(n int) bool { return n > 5 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.archive = peftArchive(t, 32)
			f.serverConfig = map[string]any{"pjwt_auth_enabled": true}
			f.jwt = testJWT(tt.ttl)
			tr, _ := New(context.Background(), testConfig(f))
			if _, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: filepath.Join(t.TempDir(), "a")}); err != nil {
				t.Fatal(err)
			}
			if n := len(f.routeCalls("auth/token")); !tt.exchanges(n) {
				t.Errorf("auth/token called %d times", n)
			}
			if got := f.routeCalls("client/config")[0].Header.Get("X-API-Key"); got != "key-123" {
				t.Errorf("client/config sent %q, want the API key", got)
			}
		})
	}
	if exp := jwtExpiry(testJWT(time.Hour)); time.Until(exp) < 59*time.Minute {
		t.Errorf("jwtExpiry = %v", exp)
	}
	if !jwtExpiry("not-a-jwt").IsZero() {
		t.Error("expiry of a non-JWT")
	}
}

func TestBillingPauseWindow(t *testing.T) {
	tests := []struct {
		cfg    time.Duration
		server int
		want   time.Duration
	}{
		{0, 0, time.Hour},
		{0, 120, 2 * time.Minute},
		{5 * time.Second, 120, 5 * time.Second},
	}
	for _, tt := range tests {
		c := &client{cfg: &Config{BillingPause: tt.cfg}, server: serverConfig{BillingPauseS: tt.server}}
		if got := c.billingPause(); got != tt.want {
			t.Errorf("billingPause(cfg %s, server %ds) = %s, want %s", tt.cfg, tt.server, got, tt.want)
		}
	}
}

// TestArchiveAsTheSDKDownloadsIt: the archive route answers 200 JSON (the
// current backend), the archive is a plain tar with the adapter at its root
// and Tinker's checkpoint_complete marker, fetched without credentials.
func TestArchiveAsTheSDKDownloadsIt(t *testing.T) {
	f := newFake(t)
	f.archive = peftTar(t, 32, "", false)
	f.archiveJSON = true
	f.serverConfig = map[string]any{}
	tr, _ := New(context.Background(), testConfig(f))
	out := filepath.Join(t.TempDir(), "adapter")
	res, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: grpoRollouts(0), Version: 1, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adapter.Validate(res.AdapterDir, adapter.Expect{Rank: 32}); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out, completeMarker)); err == nil {
		t.Error("checkpoint_complete copied into the adapter folder")
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c.Route, "GET /api/v1/training_runs/") && c.Header.Get("Accept") != "application/json" {
			t.Errorf("archive route Accept %q", c.Header.Get("Accept"))
		}
	}
}

func TestUntarRefusesLinksAndEscapes(t *testing.T) {
	tests := []struct {
		hdr  tar.Header
		want string
	}{
		{tar.Header{Name: "adapter_config.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "is a link"},
		{tar.Header{Name: "w", Typeflag: tar.TypeLink, Linkname: "../x"}, "is a link"},
		{tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "escapes the folder"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tt.hdr)
		tw.Close()
		err := untar(&buf, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.hdr.Name, err, tt.want)
		}
	}
}
