package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/llm/openai"
	"github.com/sia-agent/sia/trajectory"
)

// tokenModel answers like a vLLM-backed task model: text, token ids,
// logprobs, prompt ids and usage, and records what it was asked.
func tokenModel(text string) *llmtest.Model {
	return llmtest.New("upstream", func(call int, req llm.Request) (*llm.Completion, error) {
		n := max(req.N, 1)
		c := &llm.Completion{Model: "upstream-" + req.Model, PromptTokenIDs: []int{1, 2, 3},
			Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 2 * n}}
		for i := range n {
			c.Choices = append(c.Choices, llm.Choice{
				Message:  llm.Message{Role: llm.RoleAssistant, Content: fmt.Sprintf("%s-%d", text, i)},
				TokenIDs: []int{100 + i, 200 + i}, Logprobs: []float64{-0.5, -0.25}, FinishReason: "stop",
			})
		}
		return c, nil
	})
}

func toolModel() *llmtest.Model {
	return llmtest.New("upstream", func(call int, req llm.Request) (*llm.Completion, error) {
		return &llm.Completion{Model: "m", Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 7},
			Choices: []llm.Choice{{FinishReason: "tool_calls", Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_a", Name: "lookup", Arguments: json.RawMessage(`{"q":"x"}`)},
				{ID: "call_b", Name: "calc", Arguments: json.RawMessage(`{"e":"1+1"}`)},
			}}}}}, nil
	})
}

type harness struct {
	g      *Gateway
	rt     *Route // serves upstream as adapter v3 (no model: upstream nil)
	srv    *httptest.Server
	client sdk.Client
}

func newHarness(t *testing.T, cfg Config, upstream llm.Model) *harness {
	t.Helper()
	g := New(cfg)
	p := Policy{Model: upstream, Version: 3, Name: "policy-v0003"}
	if upstream == nil {
		p = Policy{}
	}
	rt := g.Route(p)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	client := sdk.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(rt.Key()), option.WithMaxRetries(0))
	return &harness{g: g, rt: rt, srv: srv, client: client}
}

func userMsg(s string) []sdk.ChatCompletionMessageParamUnion {
	return []sdk.ChatCompletionMessageParamUnion{sdk.SystemMessage("sys"), sdk.UserMessage(s)}
}

func TestChatNonStreamingRecordsTheSample(t *testing.T) {
	up := tokenModel("answer")
	h := newHarness(t, Config{}, up)
	rec := trajectory.NewRecorder()
	defer h.rt.Register("item/7;x", 2, rec)()

	res, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{
		Model: PolicyModel, Messages: userMsg("2+2?"), Logprobs: sdk.Bool(true),
	}, option.WithHeader(TagHeader, FormatTag("item/7;x", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Choices[0].Message.Content != "answer-0" || res.Choices[0].FinishReason != "stop" || res.Usage.TotalTokens != 5 {
		t.Errorf("reply = %s", res.RawJSON())
	}
	if lp := res.Choices[0].Logprobs.Content; len(lp) != 2 || lp[0].Token != "token_id:100" || lp[1].Logprob != -0.25 {
		t.Errorf("logprobs = %+v", lp)
	}
	calls := up.Calls()
	if len(calls) != 1 || calls[0].Model != "policy-v0003" || !calls[0].Logprobs {
		t.Fatalf("upstream saw %+v; want model policy-v0003 with logprobs", calls)
	}
	steps := rec.Steps()
	if len(steps) != 1 {
		t.Fatalf("recorded %d steps, want 1", len(steps))
	}
	s := steps[0]
	want := trajectory.Step{Kind: trajectory.KindModel, T: s.T, Model: "upstream-policy-v0003",
		Messages:   []llm.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: "2+2?"}},
		Completion: "answer-0", PromptTokenIDs: []int{1, 2, 3}, CompletionTokenIDs: []int{100, 200},
		Logprobs: []float64{-0.5, -0.25}, FinishReason: "stop", Usage: &llm.Usage{PromptTokens: 3, CompletionTokens: 2}, AdapterVersion: 3}
	if !reflect.DeepEqual(s, want) {
		gb, _ := json.Marshal(s)
		wb, _ := json.Marshal(want)
		t.Errorf("step\n got %s\nwant %s", gb, wb)
	}
	if calls, _ := h.g.Untagged(); len(calls) != 0 {
		t.Errorf("untagged = %+v", calls)
	}
}

func TestTaggingAndUntagged(t *testing.T) {
	h := newHarness(t, Config{Run: "run_1"}, tokenModel("a"))
	recs := map[string]*trajectory.Recorder{"q1/0": trajectory.NewRecorder(), "q1/1": trajectory.NewRecorder(), "q2/0": trajectory.NewRecorder()}
	for k, rec := range recs {
		item, sample, _ := strings.Cut(k, "/")
		var n int
		fmt.Sscan(sample, &n)
		defer h.rt.Register(item, n, rec)()
	}
	tests := []struct {
		name    string
		header  string
		user    string
		wantRec string // "" = untagged
		reason  string
	}{
		{"header", "item=q1;sample=1", "", "q1/1", ""},
		{"header wins over user", "item=q2;sample=0", "item=q1;sample=0", "q2/0", ""},
		{"user field", "", "item=q1;sample=0;gen=2;run=run_1", "q1/0", ""},
		{"bare item id in user", "", "q2", "q2/0", ""},
		{"no tag", "", "", "", "no tag"},
		{"unregistered sample", "item=q1;sample=9", "", "", "no sample registered"},
		{"other run", "item=q1;sample=0;run=run_2", "", "", "tag names run run_2"},
		{"malformed", "item=q1;sample=-1", "", "", "not a non-negative integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]int{}
			for k, r := range recs {
				before[k] = len(r.Steps())
			}
			untaggedBefore, _ := h.g.Untagged()
			params := sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg(tt.name)}
			if tt.user != "" {
				params.User = sdk.String(tt.user)
			}
			var opts []option.RequestOption
			if tt.header != "" {
				opts = append(opts, option.WithHeader(TagHeader, tt.header))
			}
			if _, err := h.client.Chat.Completions.New(t.Context(), params, opts...); err != nil {
				t.Fatal(err)
			}
			for k, r := range recs {
				grew := len(r.Steps()) - before[k]
				if (k == tt.wantRec) != (grew == 1) || grew > 1 {
					t.Errorf("recorder %s grew by %d", k, grew)
				}
			}
			untagged, _ := h.g.Untagged()
			if tt.wantRec != "" {
				if len(untagged) != len(untaggedBefore) {
					t.Errorf("tagged call also logged as untagged")
				}
				return
			}
			if len(untagged) != len(untaggedBefore)+1 {
				t.Fatalf("untagged log grew by %d, want 1", len(untagged)-len(untaggedBefore))
			}
			last := untagged[len(untagged)-1]
			if !strings.Contains(last.Reason, tt.reason) || last.Tag != tt.header+tt.user || len(last.Steps) != 1 ||
				last.Steps[0].Messages[1].Content != tt.name {
				t.Errorf("untagged entry = %+v", last)
			}
		})
	}
}

func TestUntaggedLogIsBounded(t *testing.T) {
	h := newHarness(t, Config{MaxUntagged: 3}, tokenModel("a"))
	for i := range 5 {
		m := h.rt.Model(fmt.Sprintf("nobody-%d", i), 0)
		if _, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}}); err != nil {
			t.Fatal(err)
		}
	}
	calls, dropped := h.g.Untagged()
	if len(calls) != 3 || dropped != 2 || calls[0].Tag != FormatTag("nobody-2", 0) {
		t.Errorf("untagged = %d entries (first %q), dropped %d", len(calls), calls[0].Tag, dropped)
	}
}

func TestStreamingWithTheOpenAIClient(t *testing.T) {
	tests := []struct {
		name     string
		upstream llm.Model
		n        int
		check    func(t *testing.T, acc *sdk.ChatCompletionAccumulator)
	}{
		{"text n=2", tokenModel("streamed"), 2, func(t *testing.T, acc *sdk.ChatCompletionAccumulator) {
			if len(acc.Choices) != 2 || acc.Choices[0].Message.Content != "streamed-0" || acc.Choices[1].Message.Content != "streamed-1" ||
				acc.Choices[1].FinishReason != "stop" {
				t.Errorf("accumulated = %s", acc.RawJSON())
			}
			if acc.Usage.PromptTokens != 3 || acc.Usage.CompletionTokens != 4 {
				t.Errorf("usage = %+v", acc.Usage)
			}
			if lp := acc.Choices[0].Logprobs.Content; len(lp) != 2 || lp[0].Token != "token_id:100" {
				t.Errorf("logprobs = %+v", lp)
			}
		}},
		{"tool calls", toolModel(), 1, func(t *testing.T, acc *sdk.ChatCompletionAccumulator) {
			tc := acc.Choices[0].Message.ToolCalls
			if len(tc) != 2 || tc[0].ID != "call_a" || tc[0].Function.Name != "lookup" || tc[0].Function.Arguments != `{"q":"x"}` ||
				tc[1].Function.Name != "calc" || acc.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("tool calls = %+v", tc)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, tt.upstream)
			rec := trajectory.NewRecorder()
			defer h.rt.Register("s", 0, rec)()
			stream := h.client.Chat.Completions.NewStreaming(t.Context(), sdk.ChatCompletionNewParams{
				Model: PolicyModel, Messages: userMsg("hi"), N: sdk.Int(int64(tt.n)), Logprobs: sdk.Bool(true),
				StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
			}, option.WithHeader(TagHeader, FormatTag("s", 0)))
			var acc sdk.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				chunks++
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("the SDK's accumulator rejected chunk %d: %s", chunks, stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &acc)
			if got := len(rec.Steps()); got != tt.n {
				t.Errorf("recorded %d steps, want %d (one per choice)", got, tt.n)
			}
		})
	}
}

func TestSSEFraming(t *testing.T) {
	h := newHarness(t, Config{}, tokenModel("x"))
	body := `{"model":"policy","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"return_token_ids":true}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.rt.Key())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	events := strings.Split(strings.TrimSuffix(string(raw), "\n\n"), "\n\n")
	if len(events) != 4 || events[3] != "data: [DONE]" {
		t.Fatalf("events = %q", events)
	}
	var first, content Chunk
	json.Unmarshal([]byte(strings.TrimPrefix(events[0], "data: ")), &first)
	json.Unmarshal([]byte(strings.TrimPrefix(events[1], "data: ")), &content)
	if first.Choices[0].Delta.Role != "assistant" || !reflect.DeepEqual(first.PromptTokenIDs, []int{1, 2, 3}) {
		t.Errorf("first chunk = %s", events[0])
	}
	if *content.Choices[0].Delta.Content != "x-0" || !reflect.DeepEqual(content.Choices[0].TokenIDs, []int{100, 200}) || content.Choices[0].Logprobs != nil {
		t.Errorf("content chunk = %s", events[1])
	}
}

// errModel fails every call with err after delay.
func errModel(delay time.Duration, err error) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		select {
		case <-time.After(delay):
			return nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
}

func TestErrorReplies(t *testing.T) {
	b, _ := budget.New(budget.Limits{Tokens: 1}, nil)
	spent := b.Wrap(tokenModel("x"), "m")
	if _, err := spent.Chat(t.Context(), llm.Request{}); err != nil { // uses up the budget
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		upstream llm.Model
		cfg      Config
		key      string
		model    string
		status   int
		code     string
		inMsg    string
		upCalls  *atomic.Int32
	}{
		{name: "wrong key", upstream: tokenModel("x"), key: "nope", status: 401, code: "invalid_api_key"},
		{name: "no policy", status: 503, code: "no_policy", inMsg: "no policy model is set"},
		{name: "budget", upstream: spent, status: 429, code: "insufficient_quota", inMsg: "budget exhausted"},
		{name: "upstream bad request", upstream: errModel(0, &openai.APIError{Status: 400, Type: "invalid_request_error", Message: "context too long"}), status: 400, inMsg: "context too long"},
		{name: "upstream rate limit", upstream: errModel(0, &openai.APIError{Status: 429, Message: "slow down"}), status: 429, code: "rate_limit_exceeded"},
		{name: "upstream auth is ours", upstream: errModel(0, &openai.APIError{Status: 401, Message: "bad key"}), status: 502, code: "upstream_auth"},
		{name: "upstream 500", upstream: errModel(0, &openai.APIError{Status: 500, Message: "boom"}), status: 502, code: "upstream_error"},
		{name: "upstream timeout", upstream: errModel(0, fmt.Errorf("attempt: %w", context.DeadlineExceeded)), status: 504, code: "upstream_timeout"},
		{name: "strict model", upstream: tokenModel("x"), cfg: Config{StrictModel: true}, model: "gpt-4o", status: 404, code: "model_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg, tt.upstream)
			client := h.client
			if tt.key != "" {
				client = sdk.NewClient(option.WithBaseURL(h.srv.URL+"/v1/"), option.WithAPIKey(tt.key), option.WithMaxRetries(0))
			}
			model := tt.model
			if model == "" {
				model = PolicyModel
			}
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					s := client.Chat.Completions.NewStreaming(t.Context(), sdk.ChatCompletionNewParams{Model: model, Messages: userMsg("q")})
					for s.Next() {
					}
					err = s.Err()
				} else {
					_, err = client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: model, Messages: userMsg("q")})
				}
				var ae *sdk.Error
				if !errors.As(err, &ae) {
					t.Fatalf("stream=%v: err = %v, want an *openai.Error with a status", stream, err)
				}
				if ae.StatusCode != tt.status || (tt.code != "" && ae.Code != tt.code) || !strings.Contains(ae.Message, tt.inMsg) {
					t.Errorf("stream=%v: got %d code=%q msg=%q; want %d code=%q msg~%q", stream, ae.StatusCode, ae.Code, ae.Message, tt.status, tt.code, tt.inMsg)
				}
			}
		})
	}
}

func TestBudgetRefusalIsNotRetriedBySDK(t *testing.T) {
	b, _ := budget.New(budget.Limits{Tokens: 1}, nil)
	up := tokenModel("x")
	g := New(Config{})
	rt := g.Route(Policy{Model: b.Wrap(up, "m")})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		g.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	retrying := sdk.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(rt.Key()), option.WithMaxRetries(3))
	if _, err := retrying.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")}); err != nil {
		t.Fatal(err)
	}
	_, err := retrying.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
	var ae *sdk.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want 429", err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("gateway saw %d requests, want 2: the refusal must not be retried", n)
	}
	if len(up.Calls()) != 1 {
		t.Errorf("upstream saw %d calls", len(up.Calls()))
	}
}

func TestStreamErrorAfterStartIsInBand(t *testing.T) {
	h := newHarness(t, Config{StreamKeepAlive: 10 * time.Millisecond}, errModel(80*time.Millisecond, &openai.APIError{Status: 500, Message: "engine died"}))
	rec := trajectory.NewRecorder()
	defer h.rt.Register("i", 0, rec)()
	s := h.client.Chat.Completions.NewStreaming(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")},
		option.WithHeader(TagHeader, FormatTag("i", 0)))
	for s.Next() {
		t.Errorf("unexpected chunk %s", s.Current().RawJSON())
	}
	var se *ssestream.StreamError
	if !errors.As(s.Err(), &se) || !strings.Contains(se.Message, "engine died") {
		t.Fatalf("err = %v, want an in-band stream error", s.Err())
	}
	if steps := rec.Steps(); len(steps) != 1 || steps[0].Kind != trajectory.KindError || !strings.Contains(steps[0].Text, "engine died") {
		t.Errorf("recorded %+v", steps)
	}
}

func TestSlowStreamKeepsAliveThenAnswers(t *testing.T) {
	slow := llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		time.Sleep(60 * time.Millisecond)
		return llmtest.Text("late"), nil
	})
	h := newHarness(t, Config{StreamKeepAlive: 10 * time.Millisecond}, slow)
	s := h.client.Chat.Completions.NewStreaming(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
	var acc sdk.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if s.Err() != nil || acc.Choices[0].Message.Content != "late" {
		t.Fatalf("err %v, content %q", s.Err(), acc.Choices[0].Message.Content)
	}
}

func TestClientCancellationReachesUpstream(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			cancelled := make(chan struct{})
			started := make(chan struct{})
			up := llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
				close(started)
				select {
				case <-ctx.Done():
					close(cancelled)
					return nil, ctx.Err()
				case <-time.After(10 * time.Second):
					return llmtest.Text("too late"), nil
				}
			})
			h := newHarness(t, Config{}, up)
			ctx, cancel := context.WithCancel(t.Context())
			go func() { <-started; cancel() }()
			if stream {
				s := h.client.Chat.Completions.NewStreaming(ctx, sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
				for s.Next() {
				}
			} else {
				h.client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
			}
			select {
			case <-cancelled:
			case <-time.After(5 * time.Second):
				t.Fatal("upstream call was not cancelled when the client went away")
			}
		})
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	var inFlight, peak atomic.Int32
	up := llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		return llmtest.Text("ok"), nil
	})
	h := newHarness(t, Config{MaxConcurrent: 3}, up)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
			} else {
				_, err = h.rt.Model("x", i).Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 3 {
		t.Errorf("peak in-flight upstream calls = %d, want 3", p)
	}
}

// TestRoutesServeTheirOwnPolicy: two rollouts' routes open at once each
// serve their own model and version to calls made with their own key, even
// interleaved; a closed route's key is refused.
func TestRoutesServeTheirOwnPolicy(t *testing.T) {
	h := newHarness(t, Config{}, tokenModel("base"))
	next := tokenModel("tuned")
	tuned := h.g.Route(Policy{Model: next, Version: 4, Name: "policy-v0004"})
	tunedClient := sdk.NewClient(option.WithBaseURL(h.srv.URL+"/v1/"), option.WithAPIKey(tuned.Key()), option.WithMaxRetries(0))
	baseRec, tunedRec := trajectory.NewRecorder(), trajectory.NewRecorder()
	defer h.rt.Register("i", 0, baseRec)()
	defer tuned.Register("i", 0, tunedRec)() // the same sample id on another route
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			client := h.client
			if i%2 == 1 {
				client = tunedClient
			}
			_, err := client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")},
				option.WithHeader(TagHeader, FormatTag("i", 0)))
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, tc := range []struct {
		rec     *trajectory.Recorder
		version int
		prefix  string
	}{{baseRec, 3, "base-"}, {tunedRec, 4, "tuned-"}} {
		steps := tc.rec.Steps()
		if len(steps) != 4 {
			t.Fatalf("v%d recorded %d steps, want 4", tc.version, len(steps))
		}
		for _, st := range steps {
			if st.AdapterVersion != tc.version || !strings.HasPrefix(st.Completion, tc.prefix) {
				t.Errorf("v%d route recorded %+v", tc.version, st)
			}
		}
	}
	if calls := next.Calls(); len(calls) != 4 || calls[0].Model != "policy-v0004" {
		t.Errorf("tuned upstream saw %+v", calls)
	}
	for _, tc := range []struct {
		client sdk.Client
		want   []string
	}{{h.client, []string{"policy", "policy-v0003"}}, {tunedClient, []string{"policy", "policy-v0004"}}} {
		page, err := tc.client.Models.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("models = %v, want %v", ids, tc.want)
		}
	}
	tuned.Close()
	_, err := tunedClient.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")})
	var ae *sdk.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
		t.Fatalf("closed route: err = %v, want 401", err)
	}
	if _, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel, Messages: userMsg("q")}); err != nil {
		t.Fatalf("the other route after a close: %v", err)
	}
}

func TestServe(t *testing.T) {
	g := New(Config{})
	rt := g.Route(Policy{Model: tokenModel("served")})
	ctx, cancel := context.WithCancel(t.Context())
	base, err := g.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Errorf("base URL %q", base)
	}
	client := sdk.NewClient(option.WithBaseURL(base+"/"), option.WithAPIKey(rt.Key()), option.WithMaxRetries(0))
	res, err := client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: "anything", Messages: userMsg("q")})
	if err != nil || res.Choices[0].Message.Content != "served-0" {
		t.Fatalf("chat via Serve = %v, %v", res, err)
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(base + "/models"); err != nil {
			return // closed
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("server still answering after ctx was cancelled")
}
