package tinker

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sia-agent/sia/adapter"
)

// fakeTinker implements the Tinker REST routes sia uses, records every
// request, and lets a test script how futures answer.
type fakeTinker struct {
	t   *testing.T
	srv *httptest.Server

	// Scripting, set before use.
	pending      int               // 408 answers before each future resolves
	tryAgain     int               // try_again bodies after the 408s
	failOp       string            // route whose future fails
	failBody     map[string]string // its failure body
	expireOp     string            // route whose first future answers 410
	never        bool              // futures never resolve
	skyrlArchive bool              // archive route takes the bare checkpoint id
	archive      []byte            // tar (gzip'd or not) served for sampler checkpoints
	archiveJSON  bool              // archive route answers 200 {"url","expires"} (current backends), not 302
	refLogprob   float64           // base-model prompt logprob asample returns
	// The current SDK's protocol.
	serverConfig  map[string]any // client/config reply; nil answers 404 (SkyRL-tx)
	protoResults  bool           // answer ForwardBackward and Sample futures in the binary wire when asked
	metadataFirst bool           // answer complete_metadata once while allow_metadata_only is set
	pay402        map[string]int // route → 402 (billing) answers before it succeeds
	rate429       map[string]int // route → 429 answers before it succeeds
	jwt           string         // when set: auth/token mints it, and every other route wants it as X-API-Key

	mu      sync.Mutex
	calls   []call
	futures map[string]*future
	nextID  int
	expired bool
}

type call struct {
	Route  string
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

type future struct {
	op     string
	result any
	polls  int
	binary []byte // the result in the binary wire
	sentMD bool   // complete_metadata was answered
}

func newFake(t *testing.T) *fakeTinker {
	f := &fakeTinker{t: t, futures: map[string]*future{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTinker) routeCalls(route string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeTinker) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		f.serveGet(w, r)
		return
	}
	route, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if r.Header.Get("Content-Type") == ProtoContentType {
		if route != "forward_backward" {
			writeJSON(w, 415, map[string]any{"detail": "binary body on " + route})
			return
		}
		msg := raw
		if r.Header.Get("Content-Encoding") == "zstd" {
			dec, err := zstd.NewReader(nil)
			if err == nil {
				msg, err = dec.DecodeAll(raw, nil)
				dec.Close()
			}
			if err != nil {
				writeJSON(w, 400, map[string]any{"detail": "bad zstd: " + err.Error()})
				return
			}
		}
		var err error
		if body, err = protoFwdBwdToJSON(f.t, msg); err != nil {
			writeJSON(w, 400, map[string]any{"detail": "bad protobuf: " + err.Error()})
			return
		}
	} else if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, 422, map[string]any{"detail": "bad json"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Route: route, Body: body, Raw: raw, Header: r.Header.Clone()})
	if f.jwt != "" {
		key := r.Header.Get("X-API-Key")
		switch route {
		case "auth/token":
			if key != "key-123" || string(raw) != "{}" {
				writeJSON(w, 401, map[string]any{"detail": "auth/token wants the API key and {}"})
				return
			}
			writeJSON(w, 200, map[string]any{"jwt": f.jwt})
			return
		case "client/config":
		default:
			if key != f.jwt {
				writeJSON(w, 401, map[string]any{"detail": "Invalid JWT"})
				return
			}
		}
	}
	if f.pay402[route] > 0 {
		f.pay402[route]--
		writeJSON(w, 402, map[string]any{"detail": "Access is blocked due to billing status"})
		return
	}
	if f.rate429[route] > 0 {
		f.rate429[route]--
		w.Header().Set("Retry-After", "0")
		writeJSON(w, 429, map[string]any{"detail": "rate limited"})
		return
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	var result any
	var binary []byte
	switch route {
	case "client/config":
		if f.serverConfig == nil {
			writeJSON(w, 404, map[string]any{"detail": "Not Found"})
			return
		}
		writeJSON(w, 200, f.serverConfig)
		return
	case "create_session":
		writeJSON(w, 200, map[string]any{"session_id": "sess-1"})
		return
	case "retrieve_future":
		f.retrieve(w, r, body)
		return
	case "create_model":
		result = map[string]any{"model_id": "model-1", "type": "create_model"}
	case "forward_backward":
		fbi := body["forward_backward_input"].(map[string]any)
		n := len(fbi["data"].([]any))
		outs := make([]map[string]any, n)
		for i := range outs {
			outs[i] = map[string]any{"logprobs": map[string]any{"data": []float64{-0.5}, "dtype": "float32"}}
		}
		result = map[string]any{"loss_fn_output_type": "scalar", "loss_fn_outputs": outs, "metrics": map[string]float64{"loss:sum": 1.5 * float64(n)}}
		var lens []int
		for _, d := range fbi["data"].([]any) {
			toks := d.(map[string]any)["model_input"].(map[string]any)["chunks"].([]any)[0].(map[string]any)["tokens"].([]any)
			lens = append(lens, len(toks))
		}
		binary = protoFwdBwdOutput(f.t, lens, map[string]float64{"loss:sum": 1.5 * float64(n)})
	case "optim_step":
		result = map[string]any{"metrics": map[string]float64{"lr": body["adam_params"].(map[string]any)["learning_rate"].(float64)}}
	case "save_weights":
		result = map[string]any{"path": "tinker://model-1/weights/" + str("path"), "type": "save_weights"}
	case "save_weights_for_sampler":
		result = map[string]any{"path": "tinker://model-1/sampler_weights/" + str("path"), "type": "save_weights_for_sampler"}
	case "load_weights":
		result = map[string]any{"path": str("path"), "type": "load_weights"}
	case "asample":
		toks := body["prompt"].(map[string]any)["chunks"].([]any)[0].(map[string]any)["tokens"].([]any)
		lps := make([]any, len(toks))
		for i := 1; i < len(toks); i++ {
			lps[i] = f.refLogprob
		}
		result = map[string]any{"type": "sample", "sequences": []any{map[string]any{"stop_reason": "length", "tokens": []int{0}, "logprobs": []float64{-1}}}, "prompt_logprobs": lps}
		blp := make([]float32, len(toks))
		blp[0] = float32(math.NaN())
		for i := 1; i < len(toks); i++ {
			blp[i] = float32(f.refLogprob)
		}
		binary = protoSampleResponse(f.t, blp)
	default:
		writeJSON(w, 404, map[string]any{"detail": "Not Found"})
		return
	}
	f.nextID++
	id := fmt.Sprint(f.nextID)
	f.futures[id] = &future{op: route, result: result, binary: binary}
	// SkyRL-tx's reply shape: stringified integer ids plus future_id.
	writeJSON(w, 200, map[string]any{"future_id": id, "status": "pending", "request_id": id})
}

func (f *fakeTinker) retrieve(w http.ResponseWriter, r *http.Request, body map[string]any) {
	id, _ := body["request_id"].(string)
	fu, ok := f.futures[id]
	if !ok {
		writeJSON(w, 404, map[string]any{"detail": "Future not found"})
		return
	}
	fu.polls++
	switch {
	case f.never || fu.polls <= f.pending:
		writeJSON(w, 408, map[string]any{"detail": "Timeout waiting for result", "queue_state": "active"})
	case fu.polls <= f.pending+f.tryAgain:
		writeJSON(w, 200, map[string]any{"type": "try_again", "request_id": id, "queue_state": "paused_capacity"})
	case fu.op == f.expireOp && !f.expired:
		f.expired = true
		writeJSON(w, 410, map[string]any{"detail": "expired"})
	case fu.op == f.failOp:
		writeJSON(w, 200, f.failBody)
	case f.metadataFirst && !fu.sentMD && body["allow_metadata_only"] == true:
		fu.sentMD = true
		writeJSON(w, 200, map[string]any{"status": "complete_metadata", "response_payload_size": 1234})
	case f.metadataFirst && body["allow_metadata_only"] == true:
		writeJSON(w, 400, map[string]any{"detail": "metadata already sent: poll without allow_metadata_only"})
	case f.protoResults && fu.binary != nil && strings.Contains(r.Header.Get("Accept"), ProtoContentType):
		w.Header().Set("Content-Type", ProtoContentType)
		w.Write(fu.binary)
	default:
		writeJSON(w, 200, fu.result)
	}
}

func (f *fakeTinker) serveGet(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, call{Route: "GET " + r.URL.Path, Header: r.Header.Clone()})
	jwt := f.jwt
	f.mu.Unlock()
	if jwt != "" && strings.HasPrefix(r.URL.Path, "/api/") && r.Header.Get("X-API-Key") != jwt {
		writeJSON(w, 401, map[string]any{"detail": "Invalid JWT"})
		return
	}
	if r.URL.Path == "/download/ckpt.tar" {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(f.archive)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/training_runs/model-1/checkpoints/")
	rest, ok2 := strings.CutSuffix(rest, "/archive")
	if !ok || !ok2 || r.Header.Get("Accept") != "application/json" {
		writeJSON(w, 404, map[string]any{"detail": "Not Found"})
		return
	}
	if f.skyrlArchive == strings.Contains(rest, "/") {
		writeJSON(w, 404, map[string]any{"detail": "Checkpoint not found"})
		return
	}
	f.mu.Lock()
	pay := f.pay402["archive"] > 0
	if pay {
		f.pay402["archive"]--
	}
	f.mu.Unlock()
	if pay {
		writeJSON(w, 402, map[string]any{"detail": "Access is blocked due to billing status"})
		return
	}
	if f.archiveJSON {
		writeJSON(w, 200, map[string]any{"url": f.srv.URL + "/download/ckpt.tar", "expires": "2026-05-27T20:00:00+00:00"})
		return
	}
	w.Header().Set("Location", "/download/ckpt.tar")
	w.Header().Set("Expires", "Mon, 02 Jan 2006 15:04:05 GMT")
	w.WriteHeader(http.StatusFound)
}

// peftArchive packs a valid rank-r PEFT adapter under ckpt/ in a tar.gz.
func peftArchive(t *testing.T, rank int) []byte {
	return peftTar(t, rank, "ckpt/", true)
}

// peftTar packs a valid rank-r PEFT adapter under prefix, with Tinker's
// checkpoint_complete marker, as a tar (gzip'd when gz).
func peftTar(t *testing.T, rank int, prefix string, gz bool) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := adapter.WriteLoRA(dir, adapter.NewConfig("org/base", rank, 32, []string{"q_proj", "v_proj"}), 1, 8, 8); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	if prefix != "" {
		tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for _, name := range []string{adapter.ConfigFile, adapter.WeightsFile, completeMarker} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if name == completeMarker {
			b, err = nil, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: prefix + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}
