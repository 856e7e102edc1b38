package gateway

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"

	"github.com/sia-agent/sia/llm"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		in      string
		want    Tag
		ok      bool
		wantErr string
	}{
		{"", Tag{Gen: -1}, false, ""},
		{"item=q1;sample=3", Tag{Item: "q1", Sample: 3, Gen: -1}, true, ""},
		{" sample=1 ; item=q1 ;gen=4;run=run_2", Tag{Item: "q1", Sample: 1, Gen: 4, Run: "run_2"}, true, ""},
		{"item=a%3Bb%3Dc", Tag{Item: "a;b=c", Gen: -1}, true, ""},
		{"lawbench-0042", Tag{Item: "lawbench-0042", Gen: -1}, true, ""},
		{"sample=2", Tag{}, false, "no item"},
		{"item=x;sample=two", Tag{}, false, "not a non-negative integer"},
		{"item=x;colour=red", Tag{}, false, `unknown key "colour"`},
		{"item=x;junk", Tag{}, false, "not key=value"},
		{"item=%zz", Tag{}, false, "invalid URL escape"},
	}
	for _, tt := range tests {
		got, ok, err := ParseTag(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ok {
				t.Errorf("ParseTag(%q) = %v, %v; want error %q", tt.in, ok, err, tt.wantErr)
			}
			continue
		}
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("ParseTag(%q) = %+v, %v, %v; want %+v, %v", tt.in, got, ok, err, tt.want, tt.ok)
		}
	}
	for _, item := range []string{"plain", "with;semicolon", "a=b", "ünï code/slash", " spaced "} {
		got, ok, err := ParseTag(FormatTag(item, 7))
		if err != nil || !ok || got.Item != item || got.Sample != 7 {
			t.Errorf("round trip of %q: %+v %v %v", item, got, ok, err)
		}
	}
}

func TestFromChatRequest(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    llm.Request
		wantErr string
	}{
		{
			name: "full",
			body: `{"model":"policy","messages":[
				{"role":"developer","content":"be exact"},
				{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
				{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},
				{"role":"tool","tool_call_id":"c1","content":"42"}],
				"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
				"n":2,"temperature":0.5,"top_p":0.9,"max_completion_tokens":7,"max_tokens":99,"stop":"END","seed":3,"logprobs":true}`,
			want: llm.Request{
				Messages: []llm.Message{
					{Role: "system", Content: "be exact"},
					{Role: "user", Content: "ab", Parts: json.RawMessage(`[{"type":"text","text":"a"},{"type":"text","text":"b"}]`)},
					{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f", Arguments: json.RawMessage(`{"x":1}`)}}},
					{Role: "tool", ToolCallID: "c1", Content: "42"},
				},
				Tools: []llm.Tool{{Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`)}},
				N:     2, Temperature: ptr(0.5), TopP: ptr(0.9), MaxTokens: 7, Stop: []string{"END"}, Seed: ptr(int64(3)), Logprobs: true,
			},
		},
		{name: "stop array and max_tokens", body: `{"messages":[{"role":"user","content":"q"}],"stop":["a","b"],"max_tokens":5}`,
			want: llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}, Stop: []string{"a", "b"}, MaxTokens: 5}},
		{name: "image part kept", body: `{"messages":[{"role":"user","content":[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}`,
			want: llm.Request{Messages: []llm.Message{{Role: "user", Content: "what?",
				Parts: json.RawMessage(`[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]`)}}}},
		{name: "other fields forwarded, nulls dropped", body: `{"messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_object"},"tool_choice":"auto",` +
			`"presence_penalty":0.5,"frequency_penalty":0.25,"logit_bias":{"1":-100},"parallel_tool_calls":false,"top_logprobs":3,"metadata":null,"modalities":["text"],"top_k":20}`,
			want: llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}, TopLogprobs: 3, Extra: map[string]json.RawMessage{
				"response_format": json.RawMessage(`{"type":"json_object"}`), "tool_choice": json.RawMessage(`"auto"`),
				"presence_penalty": json.RawMessage(`0.5`), "frequency_penalty": json.RawMessage(`0.25`), "logit_bias": json.RawMessage(`{"1":-100}`),
				"parallel_tool_calls": json.RawMessage(`false`), "modalities": json.RawMessage(`["text"]`), "top_k": json.RawMessage(`20`)}}},
		{name: "audio refused", body: `{"messages":[{"role":"user","content":"q"}],"audio":{"voice":"alloy","format":"wav"}}`, wantErr: "'audio'"},
		{name: "audio modality refused", body: `{"messages":[{"role":"user","content":"q"}],"modalities":["text","audio"]}`, wantErr: "'modalities'"},
		{name: "functions refused", body: `{"messages":[{"role":"user","content":"q"}],"functions":[{"name":"f"}]}`, wantErr: "use tools"},
		{name: "top_logprobs range", body: `{"messages":[{"role":"user","content":"q"}],"top_logprobs":21}`, wantErr: "top_logprobs = 21"},
		{name: "part without type", body: `{"messages":[{"role":"user","content":[{"text":"q"}]}]}`, wantErr: "needs a type"},
		{name: "no messages", body: `{"messages":[]}`, wantErr: "at least one message"},
		{name: "bad role", body: `{"messages":[{"role":"robot","content":"q"}]}`, wantErr: `role "robot"`},
		{name: "tool without id", body: `{"messages":[{"role":"tool","content":"q"}]}`, wantErr: "needs tool_call_id"},
		{name: "bad arguments", body: `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{"}}]}]}`, wantErr: "not JSON"},
		{name: "n out of range", body: `{"messages":[{"role":"user","content":"q"}],"n":0}`, wantErr: "n = 0"},
		{name: "custom tool", body: `{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"custom","function":{"name":"f"}}]}`, wantErr: "only function tools"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ChatRequest
			err := json.Unmarshal([]byte(tt.body), &r)
			var got llm.Request
			if err == nil {
				got, err = FromChatRequest(r)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(tt.want)
				t.Errorf("\n got %s\nwant %s", gb, wb)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The replies must decode into the SDK's own types with every field intact.
func TestRepliesDecodeAsSDKTypes(t *testing.T) {
	c := &llm.Completion{Model: "m", Usage: llm.Usage{PromptTokens: 4, CompletionTokens: 6}, PromptTokenIDs: []int{9},
		Choices: []llm.Choice{
			{Message: llm.Message{Role: "assistant", Content: "hi"}, TokenIDs: []int{5, 6}, Logprobs: []float64{-1, -2}, FinishReason: "length"},
			{Message: llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: json.RawMessage(`{}`)}}}, FinishReason: "tool_calls"},
		}}
	reply := ToChatCompletion("id1", 123, "policy", c, ReplyOptions{Logprobs: true, TokenIDs: true})
	b, _ := json.Marshal(reply)
	var got sdk.ChatCompletion
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "id1" || got.Model != "policy" || got.Created != 123 || got.Usage.TotalTokens != 10 || len(got.Choices) != 2 {
		t.Errorf("decoded %s", b)
	}
	if ch := got.Choices[0]; ch.Message.Content != "hi" || ch.FinishReason != "length" || len(ch.Logprobs.Content) != 2 ||
		ch.Logprobs.Content[1].Token != "token_id:6" || ch.Logprobs.Content[1].Logprob != -2 {
		t.Errorf("choice 0 = %s", ch.RawJSON())
	}
	if ch := got.Choices[1]; ch.Message.JSON.Content.Valid() || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != "f" {
		t.Errorf("choice 1 = %s (content should be null)", ch.RawJSON())
	}
	if raw := got.JSON.ExtraFields["prompt_token_ids"].Raw(); raw != "[9]" {
		t.Errorf("prompt_token_ids = %s", raw)
	}
	plain, _ := json.Marshal(ToChatCompletion("id1", 1, "p", c, ReplyOptions{}))
	if strings.Contains(string(plain), "token_ids") || strings.Contains(string(plain), `"logprobs":{`) {
		t.Errorf("extras sent without being asked: %s", plain)
	}

	for i, ch := range ToChunks("id1", 123, "policy", c, ReplyOptions{IncludeUsage: true}) {
		b, _ := json.Marshal(ch)
		var got sdk.ChatCompletionChunk
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
}
