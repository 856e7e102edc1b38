package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/openai"
	"github.com/sia-agent/sia/trajectory"
)

// nodeClientDir holds the pinned official OpenAI Node client (package.json,
// package-lock.json); .ci/run installs it with npm ci, offline runs skip.
const nodeClientDir = "testdata/openai-node"

// recordingUpstream is an OpenAI-compatible server for the gateway's task
// model: it records each request body and answers in the Chat Completions
// wire format (n choices with logprobs and top_logprobs; a tool call when
// tool_choice names a function; SSE is never asked of it, as the gateway
// replays a completion as a stream).
type recordingUpstream struct {
	mu     sync.Mutex
	bodies []map[string]json.RawMessage
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.bodies = append(u.bodies, m)
	u.mu.Unlock()
	n := 1
	_ = json.Unmarshal(m["n"], &n)
	var choices []string
	for i := range max(n, 1) {
		if bytes.Contains(m["tool_choice"], []byte(`"function"`)) {
			choices = append(choices, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"gateway\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}`, i))
			continue
		}
		choices = append(choices, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":"{\"what\":\"a pixel\"}","refusal":null},`+
			`"logprobs":{"content":[{"token":"{\"","logprob":-0.02,"bytes":[123,34],"top_logprobs":[{"token":"{\"","logprob":-0.02,"bytes":[123,34]},{"token":"{","logprob":-3.9,"bytes":[123]}]}],"refusal":null},`+
			`"finish_reason":"stop"}`, i))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-up","object":"chat.completion","created":1767225600,"model":"gpt-4.1-mini","choices":[%s],"usage":{"prompt_tokens":20,"completion_tokens":%d,"total_tokens":%d}}`,
		strings.Join(choices, ","), 4*n, 20+4*n)
}

func (u *recordingUpstream) all() []map[string]json.RawMessage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]map[string]json.RawMessage(nil), u.bodies...)
}

// nodeResult is one line of client.mjs' output.
type nodeResult struct {
	Case    string          `json:"case"`
	OK      bool            `json:"ok"`
	Status  *int            `json:"status"`
	Type    *string         `json:"type"`
	Code    *string         `json:"code"`
	Param   *string         `json:"param"`
	Message string          `json:"message"`
	Choices int             `json:"choices"`
	Content string          `json:"content"`
	Top     [][]json.Number `json:"-"`
	TopRaw  json.RawMessage `json:"top"`
	Usage   *int            `json:"usage"`
	Finish  string          `json:"finish"`
	Tool    *string         `json:"tool"`
	Args    *string         `json:"args"`
}

// TestGatewayWithOpenAINodeClient drives the gateway with the official
// OpenAI Node client (openai 6.x) over every Chat Completions field an
// upstream accepts, streaming and not, and checks that the task model's
// upstream received each field as sent; then the same fields against a task
// model that cannot honour them, which must come back as OpenAI's error
// naming the field.
func TestGatewayWithOpenAINodeClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (apt-get install nodejs npm): skipping the OpenAI Node client test")
	}
	if _, err := os.Stat(filepath.Join(nodeClientDir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("the OpenAI Node client is not installed: run `npm ci --prefix e2e/%s` (as .ci/run does)", nodeClientDir)
	}

	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	model, err := openai.NewModel(t.Context(), "gpt-4.1-mini", &openai.Config{BaseURL: upSrv.URL + "/v1", APIKey: "upstream-key"})
	if err != nil {
		t.Fatal(err)
	}
	fwd := gateway.New(gateway.Config{Run: "run_1"})
	fwdRoute := fwd.Route(gateway.Policy{Model: model})
	rec := trajectory.NewRecorder()
	defer fwdRoute.Register("q7", 1, rec)()
	fwdSrv := httptest.NewServer(fwd.Handler())
	defer fwdSrv.Close()

	// A task model with no OpenAI extras, as the embedded one.
	plain := llm.ModelFunc(func(_ context.Context, req llm.Request) (*llm.Completion, error) {
		if err := req.Unsupported("embedded model", llm.Capabilities{}); err != nil {
			return nil, err
		}
		return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "hi"}}}}, nil
	})
	ref := gateway.New(gateway.Config{})
	refRoute := ref.Route(gateway.Policy{Model: plain})
	refSrv := httptest.NewServer(ref.Handler())
	defer refSrv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = nodeClientDir
	cmd.Env = append(os.Environ(),
		"FORWARD_URL="+fwdSrv.URL+"/v1", "FORWARD_KEY="+fwdRoute.Key(),
		"REFUSE_URL="+refSrv.URL+"/v1", "REFUSE_KEY="+refRoute.Key())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s", err, stderr.String())
	}
	results := map[string]nodeResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r nodeResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		results[r.Case] = r
	}

	// What the client saw.
	full := results["full"]
	if !full.OK || full.Choices != 2 || full.Content != `{"what":"a pixel"}` || string(full.TopRaw) != `[["{\"",-0.02],["{",-3.9]]` || full.Usage == nil || *full.Usage != 28 {
		t.Errorf("full: %+v top=%s", full, full.TopRaw)
	}
	stream := results["full-stream"]
	if !stream.OK || stream.Content != `{"what":"a pixel"}` || string(stream.TopRaw) != `[["{\"",-0.02],["{",-3.9]]` || stream.Usage == nil || *stream.Usage != 24 {
		t.Errorf("full-stream: %+v top=%s", stream, stream.TopRaw)
	}
	tool := results["tool-choice-function"]
	if !tool.OK || tool.Finish != "tool_calls" || tool.Tool == nil || *tool.Tool != "lookup" || tool.Args == nil || *tool.Args != `{"q":"gateway"}` {
		t.Errorf("tool-choice-function: %+v", tool)
	}

	// What the upstream received.
	bodies := up.all()
	if len(bodies) != 3 {
		t.Fatalf("upstream got %d requests, want 3", len(bodies))
	}
	want := map[string]string{
		"response_format":     `{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":{"type":"object","properties":{"what":{"type":"string"}},"required":["what"],"additionalProperties":false}}}`,
		"tool_choice":         `"none"`,
		"parallel_tool_calls": `false`,
		"logprobs":            `true`,
		"top_logprobs":        `2`,
		"presence_penalty":    `0.5`,
		"frequency_penalty":   `-0.5`,
		"seed":                `42`,
		"stop":                `["END","STOP"]`,
		"logit_bias":          `{"50256":-100}`,
		"temperature":         `0.3`,
		"top_p":               `0.9`,
		"reasoning_effort":    `"low"`,
		"service_tier":        `"default"`,
		"store":               `false`,
		"metadata":            `{"suite":"e2e"}`,
		"prompt_cache_key":    `"sia-e2e"`,
		"safety_identifier":   `"hashed-user"`,
		"verbosity":           `"low"`,
	}
	for i, body := range bodies[:2] {
		for k, v := range want {
			if !jsonEq(body[k], v) {
				t.Errorf("request %d: upstream %s = %s, want %s", i, k, body[k], v)
			}
		}
		if !jsonEq(body["tools"], `[{"type":"function","function":{"name":"lookup","description":"look a word up","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]`) {
			t.Errorf("request %d: tools %s", i, body["tools"])
		}
		var msgs []map[string]json.RawMessage
		if err := json.Unmarshal(body["messages"], &msgs); err != nil || len(msgs) != 2 {
			t.Fatalf("request %d: messages %s (%v)", i, body["messages"], err)
		}
		var parts []map[string]json.RawMessage
		if err := json.Unmarshal(msgs[1]["content"], &parts); err != nil || len(parts) != 3 {
			t.Fatalf("request %d: user content %s, want 3 parts (%v)", i, msgs[1]["content"], err)
		}
		if !jsonEq(parts[1]["type"], `"image_url"`) || !jsonEq(parts[2]["type"], `"input_audio"`) || !jsonEq(parts[2]["input_audio"], `{"data":"UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=","format":"wav"}`) {
			t.Errorf("request %d: parts %s", i, msgs[1]["content"])
		}
	}
	if !jsonEq(bodies[0]["n"], `2`) {
		t.Errorf("n = %s", bodies[0]["n"])
	}
	if !jsonEq(bodies[2]["tool_choice"], `{"type":"function","function":{"name":"lookup"}}`) {
		t.Errorf("tool_choice = %s", bodies[2]["tool_choice"])
	}
	// The tagged calls were recorded into the sample's trajectory: a step
	// per choice (full has n=2, full-stream 1); the third call is untagged.
	if steps := rec.Steps(); len(steps) != 3 {
		t.Errorf("the tagged sample recorded %d steps, want 3", len(steps))
	}

	// The refusals: OpenAI's error shape, naming the field.
	for name, param := range map[string]string{
		"refuse-response_format": "response_format", "refuse-tool_choice": "tool_choice",
		"refuse-presence_penalty": "presence_penalty", "refuse-frequency_penalty": "frequency_penalty",
		"refuse-logit_bias": "logit_bias", "refuse-parallel_tool_calls": "parallel_tool_calls",
		"refuse-top_logprobs": "top_logprobs", "refuse-image": "messages[0].content[1]", "refuse-audio-output": "audio",
	} {
		r, ok := results[name]
		switch {
		case !ok:
			t.Errorf("%s: no result", name)
		case r.OK || r.Status == nil || *r.Status != 400 || r.Type == nil || *r.Type != "invalid_request_error" ||
			r.Code == nil || *r.Code != "unsupported_parameter" || r.Param == nil || *r.Param != param:
			t.Errorf("%s: %+v, want 400 invalid_request_error unsupported_parameter param=%s", name, r, param)
		}
	}
}

func jsonEq(got json.RawMessage, want string) bool {
	var x, y any
	if json.Unmarshal(got, &x) != nil || json.Unmarshal([]byte(want), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
