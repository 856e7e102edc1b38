package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/openai"
)

// upstreamFake is an OpenAI-compatible server that records each body and
// answers with one choice carrying logprobs and top_logprobs.
type upstreamFake struct {
	mu     sync.Mutex
	bodies []map[string]json.RawMessage
}

func (u *upstreamFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	u.mu.Lock()
	u.bodies = append(u.bodies, m)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"up","object":"chat.completion","created":1,"model":"gpt-4.1-mini","system_fingerprint":"fp",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":"{\"ok\":true}"},`+
		`"logprobs":{"content":[{"token":"{\"","logprob":-0.01,"bytes":[123,34],"top_logprobs":[{"token":"{\"","logprob":-0.01,"bytes":[123,34]},{"token":"{","logprob":-4.6,"bytes":[123]}]}],"refusal":null},`+
		`"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)
}

func (u *upstreamFake) last() map[string]json.RawMessage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[len(u.bodies)-1]
}

// TestGatewayForwardsEveryField drives the gateway with the official Go
// client over every Chat Completions field an upstream accepts; the task
// model is the OpenAI-compatible backend pointed at a recording fake, which
// must receive each field as sent.
func TestGatewayForwardsEveryField(t *testing.T) {
	up := &upstreamFake{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	model, err := openai.NewModel(t.Context(), "gpt-4.1-mini", &openai.Config{BaseURL: upSrv.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{}, model)
	image := sdk.ChatCompletionContentPartImageParam{ImageURL: sdk.ChatCompletionContentPartImageImageURLParam{URL: "data:image/png;base64,iVBORw0KGgo=", Detail: "low"}}
	params := sdk.ChatCompletionNewParams{
		Model: PolicyModel,
		Messages: []sdk.ChatCompletionMessageParamUnion{
			sdk.SystemMessage("answer in JSON"),
			sdk.UserMessage([]sdk.ChatCompletionContentPartUnionParam{sdk.TextContentPart("what is in this picture?"), {OfImageURL: &image}}),
		},
		ResponseFormat:      sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
		ToolChoice:          sdk.ChatCompletionToolChoiceOptionUnionParam{OfAuto: sdk.String("none")},
		Logprobs:            sdk.Bool(true),
		TopLogprobs:         sdk.Int(2),
		PresencePenalty:     sdk.Float(0.5),
		FrequencyPenalty:    sdk.Float(-0.5),
		Seed:                sdk.Int(7),
		Stop:                sdk.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"END", "STOP"}},
		LogitBias:           map[string]int64{"50256": -100},
		ParallelToolCalls:   sdk.Bool(false),
		ReasoningEffort:     shared.ReasoningEffortLow,
		ServiceTier:         sdk.ChatCompletionNewParamsServiceTierDefault,
		Store:               sdk.Bool(false),
		Metadata:            shared.Metadata{"run": "t"},
		PromptCacheKey:      sdk.String("cache-1"),
		SafetyIdentifier:    sdk.String("user-hash"),
		Verbosity:           sdk.ChatCompletionNewParamsVerbosityLow,
		Temperature:         sdk.Float(0.2),
		TopP:                sdk.Float(0.9),
		MaxCompletionTokens: sdk.Int(64),
	}
	res, err := h.client.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	got := up.last()
	want := map[string]string{
		"response_format": `{"type":"json_object"}`, "tool_choice": `"none"`, "top_logprobs": `2`, "logprobs": `true`,
		"presence_penalty": `0.5`, "frequency_penalty": `-0.5`, "seed": `7`, "stop": `["END","STOP"]`,
		"logit_bias": `{"50256":-100}`, "parallel_tool_calls": `false`, "reasoning_effort": `"low"`, "service_tier": `"default"`,
		"store": `false`, "metadata": `{"run":"t"}`, "prompt_cache_key": `"cache-1"`, "safety_identifier": `"user-hash"`,
		"verbosity": `"low"`, "temperature": `0.2`, "top_p": `0.9`,
	}
	for k, v := range want {
		if !sameJSON(got[k], []byte(v)) {
			t.Errorf("upstream %s = %s, want %s", k, got[k], v)
		}
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(got["messages"], &msgs); err != nil || len(msgs) != 2 {
		t.Fatalf("upstream messages %s: %v", got["messages"], err)
	}
	wantParts := `[{"type":"text","text":"what is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]`
	if msgs[1].Role != "user" || !sameJSON(msgs[1].Content, []byte(wantParts)) {
		t.Errorf("upstream user message %s %s, want the parts as sent", msgs[1].Role, msgs[1].Content)
	}
	top := res.Choices[0].Logprobs.Content[0].TopLogprobs
	if len(top) != 2 || top[1].Token != "{" || top[1].Logprob != -4.6 {
		t.Errorf("reply top_logprobs %+v", top)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestGatewayRefusesWhatTheModelCannotHonour: a task model that takes no
// OpenAI-only fields (as the embedded one) makes the gateway answer with
// OpenAI's error shape naming the field, never a silent drop.
func TestGatewayRefusesWhatTheModelCannotHonour(t *testing.T) {
	called := 0
	plain := llm.ModelFunc(func(_ context.Context, req llm.Request) (*llm.Completion, error) {
		if err := req.Unsupported("embedded model", llm.Capabilities{}); err != nil {
			return nil, err
		}
		called++
		return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "ok"}}}}, nil
	})
	h := newHarness(t, Config{}, plain)
	image := sdk.ChatCompletionContentPartImageParam{ImageURL: sdk.ChatCompletionContentPartImageImageURLParam{URL: "https://example.test/cat.png"}}
	tests := []struct {
		name  string
		p     sdk.ChatCompletionNewParams
		param string
	}{
		{"presence_penalty", sdk.ChatCompletionNewParams{PresencePenalty: sdk.Float(1)}, "presence_penalty"},
		{"response_format", sdk.ChatCompletionNewParams{ResponseFormat: sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}}, "response_format"},
		{"tool_choice", sdk.ChatCompletionNewParams{ToolChoice: sdk.ChatCompletionToolChoiceOptionUnionParam{OfAuto: sdk.String("required")}}, "tool_choice"},
		{"top_logprobs", sdk.ChatCompletionNewParams{Logprobs: sdk.Bool(true), TopLogprobs: sdk.Int(3)}, "top_logprobs"},
		{"image part", sdk.ChatCompletionNewParams{Messages: []sdk.ChatCompletionMessageParamUnion{
			sdk.UserMessage([]sdk.ChatCompletionContentPartUnionParam{sdk.TextContentPart("look"), {OfImageURL: &image}})}}, "messages[0].content[1]"},
		{"audio output", sdk.ChatCompletionNewParams{Modalities: []string{"text", "audio"}}, "modalities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			p.Model = PolicyModel
			if p.Messages == nil {
				p.Messages = userMsg("q")
			}
			_, err := h.client.Chat.Completions.New(t.Context(), p)
			var ae *sdk.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an API error", err)
			}
			if ae.StatusCode != 400 || ae.Type != "invalid_request_error" || ae.Code != "unsupported_parameter" || ae.Param != tt.param {
				t.Errorf("got %d type=%q code=%q param=%q msg=%q; want 400 invalid_request_error unsupported_parameter param=%q",
					ae.StatusCode, ae.Type, ae.Code, ae.Param, ae.Message, tt.param)
			}
		})
	}
	if called != 0 {
		t.Errorf("the model answered %d refused requests", called)
	}
	// Text-only content parts need no support: they are text.
	if _, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: PolicyModel,
		Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage([]sdk.ChatCompletionContentPartUnionParam{sdk.TextContentPart("a"), sdk.TextContentPart("b")})}}); err != nil {
		t.Errorf("text parts: %v", err)
	}
}
