package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/openai"
	"github.com/sia-agent/sia/trajectory"
)

// The rollout benchmark: benchConcurrency workers each run rollouts (one
// tagged model call into a freshly registered recorder) through the gateway
// against an upstream that takes benchLatency per call. The ideal rate is
// benchConcurrency / benchLatency = 3200 rollouts/s; frac_of_limit is the
// measured rate over that. Run with a fixed count so it stays bounded:
//
//	go test ./gateway -run '^$' -bench BenchmarkGatewayRollouts -benchtime 6400x
const (
	benchConcurrency = 64
	benchLatency     = 20 * time.Millisecond
)

// sleepModel is the in-process fake upstream: it answers after benchLatency
// with a vLLM-shaped completion (token ids, logprobs, usage).
func sleepModel() llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		t := time.NewTimer(benchLatency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &llm.Completion{Model: "fake", PromptTokenIDs: []int{1, 2, 3, 4, 5, 6, 7, 8},
			Usage: llm.Usage{PromptTokens: 8, CompletionTokens: 4},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "the answer is 4"},
				TokenIDs: []int{10, 11, 12, 13}, Logprobs: []float64{-0.1, -0.2, -0.3, -0.4}, FinishReason: "stop"}}}, nil
	})
}

// fakeOpenAIServer is the HTTP fake upstream: vLLM's wire format after
// benchLatency.
func fakeOpenAIServer() *httptest.Server {
	body := []byte(`{"id":"c","object":"chat.completion","created":1,"model":"fake","choices":[{"index":0,"message":{"role":"assistant","content":"the answer is 4"},"logprobs":{"content":[{"token":"token_id:10","logprob":-0.1,"bytes":null,"top_logprobs":[]},{"token":"token_id:11","logprob":-0.2,"bytes":null,"top_logprobs":[]}]},"finish_reason":"stop","token_ids":[10,11]}],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10},"prompt_token_ids":[1,2,3,4,5,6,7,8]}`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		t := time.NewTimer(benchLatency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

func pooledClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * benchConcurrency
	tr.MaxIdleConnsPerHost = 4 * benchConcurrency
	return &http.Client{Transport: tr}
}

// rolloutFunc runs one model call tagged (item, sample).
type rolloutFunc func(ctx context.Context, item string, sample int) error

func netHTTPCaller(url, key string) rolloutFunc {
	client := pooledClient()
	return func(ctx context.Context, item string, sample int) error {
		body := []byte(`{"model":"policy","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"What is 2+2?"}],"max_tokens":16}`)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(TagHeader, FormatTag(item, sample))
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
}

func sdkCaller(url, key string) rolloutFunc {
	client := sdk.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0), option.WithHTTPClient(pooledClient()))
	return func(ctx context.Context, item string, sample int) error {
		_, err := client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{
			Model:     PolicyModel,
			Messages:  []sdk.ChatCompletionMessageParamUnion{sdk.SystemMessage("Answer briefly."), sdk.UserMessage("What is 2+2?")},
			MaxTokens: sdk.Int(16),
		}, option.WithHeader(TagHeader, FormatTag(item, sample)))
		return err
	}
}

func BenchmarkGatewayRollouts(b *testing.B) {
	httpUpstream := func(b *testing.B) llm.Model {
		srv := fakeOpenAIServer()
		b.Cleanup(srv.Close)
		m, err := openai.NewModel(b.Context(), "fake", &openai.Config{BaseURL: srv.URL + "/v1", VLLM: true, MaxRetries: -1, HTTPClient: pooledClient()})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name     string
		upstream func(b *testing.B) llm.Model
		caller   func(url, key string) rolloutFunc
	}{
		{"upstream=inproc/client=nethttp", func(*testing.B) llm.Model { return sleepModel() }, netHTTPCaller},
		{"upstream=inproc/client=openai-go", func(*testing.B) llm.Model { return sleepModel() }, sdkCaller},
		{"upstream=http/client=openai-go", httpUpstream, sdkCaller},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			g := New(Config{MaxConcurrent: benchConcurrency})
			rt := g.Route(Policy{Model: bc.upstream(b), Version: 1, Name: "policy-v0001"})
			srv := httptest.NewServer(g.Handler())
			defer srv.Close()
			call := bc.caller(srv.URL, rt.Key())
			var next atomic.Int64
			var steps atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			for w := range benchConcurrency {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						item := fmt.Sprintf("item-%d", i)
						rec := trajectory.NewRecorder()
						unregister := rt.Register(item, w, rec)
						err := call(b.Context(), item, w)
						unregister()
						if err != nil {
							failed.Store(err)
							return
						}
						steps.Add(int64(len(rec.Steps())))
					}
				})
			}
			wg.Wait()
			elapsed, cpu := time.Since(start), processCPU()-cpu0
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			if steps.Load() != int64(b.N) {
				b.Fatalf("recorded %d steps for %d rollouts", steps.Load(), b.N)
			}
			rate := float64(b.N) / elapsed.Seconds()
			limit := float64(benchConcurrency) / benchLatency.Seconds()
			b.ReportMetric(rate, "rollouts/s")
			b.ReportMetric(rate/limit, "frac_of_limit")
			// CPU of client, gateway and fake upstream together, per rollout:
			// what the rate costs, independent of how busy the machine is.
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/rollout")
			}
		})
	}
}

// BenchmarkChatHandler is the gateway's own cost per call: decode, route,
// record into a registered recorder, encode, with an upstream that answers
// at once and no network. go test ./gateway -run '^$' -bench ChatHandler
func BenchmarkChatHandler(b *testing.B) {
	instant := llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		return &llm.Completion{Model: "fake", PromptTokenIDs: []int{1, 2, 3, 4, 5, 6, 7, 8}, Usage: llm.Usage{PromptTokens: 8, CompletionTokens: 4},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "the answer is 4"},
				TokenIDs: []int{10, 11, 12, 13}, Logprobs: []float64{-0.1, -0.2, -0.3, -0.4}, FinishReason: "stop"}}}, nil
	})
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			g := New(Config{})
			rt := g.Route(Policy{Model: instant, Version: 1, Name: "policy-v0001"})
			h := g.Handler()
			body := fmt.Sprintf(`{"model":"policy","stream":%v,"messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"What is 2+2?"}],"max_tokens":16}`, stream)
			defer rt.Register("item", 0, trajectory.NewRecorder())()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+rt.Key())
				req.Header.Set(TagHeader, "item=item;sample=0")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
