// Package vllmtest is an in-process fake of the vLLM OpenAI server's LoRA
// routes (load, unload, list) and a minimal chat completion route, for tests
// of code that publishes adapters and routes requests to them.
package vllmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Call is one request the fake received.
type Call struct {
	Route string
	Body  map[string]any
}

// Server is the fake. Its fields are read through methods; it is safe for
// concurrent use.
type Server struct {
	*httptest.Server
	// Base is the base model name the fake serves.
	Base string
	// NestedErrors selects the newer {"error":{…}} envelope; false sends the
	// older flat {"object":"error",…} one.
	NestedErrors bool

	mu     sync.Mutex
	loaded map[string]string // name → path
	calls  []Call
}

// New starts a fake serving base.
func New(base string) *Server {
	s := &Server{Base: base, loaded: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/load_lora_adapter", s.load)
	mux.HandleFunc("POST /v1/unload_lora_adapter", s.unload)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	s.Server = httptest.NewServer(mux)
	return s
}

// Loaded returns the loaded adapter names, sorted.
func (s *Server) Loaded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.loaded {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) record(route string, r *http.Request) map[string]any {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.calls = append(s.calls, Call{Route: route, Body: body})
	return body
}

// fail writes an error in the configured envelope, as vLLM's
// create_error_response does.
func (s *Server) fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s.NestedErrors {
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": status}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": status})
}

func (s *Server) load(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := s.record("load_lora_adapter", r)
	name, _ := body["lora_name"].(string)
	path, _ := body["lora_path"].(string)
	if name == "" || path == "" {
		s.fail(w, 400, "InvalidUserInput", "Both 'lora_name' and 'lora_path' must be provided.")
		return
	}
	if _, dup := s.loaded[name]; dup {
		s.fail(w, 400, "InvalidUserInput", fmt.Sprintf("The lora adapter '%s' has already been loaded.", name))
		return
	}
	if _, err := os.Stat(filepath.Join(path, "adapter_config.json")); err != nil {
		s.fail(w, 404, "NotFoundError", fmt.Sprintf("No adapter found for %s", path))
		return
	}
	s.loaded[name] = path
	w.WriteHeader(200)
	fmt.Fprintf(w, "Success: LoRA adapter '%s' added successfully.", name)
}

func (s *Server) unload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := s.record("unload_lora_adapter", r)
	name, _ := body["lora_name"].(string)
	if _, ok := s.loaded[name]; !ok {
		s.fail(w, 404, "NotFoundError", fmt.Sprintf("The lora adapter '%s' cannot be found.", name))
		return
	}
	delete(s.loaded, name)
	w.WriteHeader(200)
	fmt.Fprintf(w, "Success: LoRA adapter '%s' removed successfully.", name)
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{{"id": s.Base, "object": "model", "owned_by": "vllm", "root": s.Base}}
	for n, p := range s.loaded {
		data = append(data, map[string]any{"id": n, "object": "model", "owned_by": "vllm", "root": p, "parent": s.Base})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}

// chat answers with the served model's name as content, so tests can see
// which adapter served a call; unknown models get vLLM's 404.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body := s.record("chat/completions", r)
	model, _ := body["model"].(string)
	_, ok := s.loaded[model]
	s.mu.Unlock()
	if !ok && model != s.Base {
		s.fail(w, 404, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", model))
		return
	}
	choice := map[string]any{"index": 0, "finish_reason": "stop",
		"message": map[string]any{"role": "assistant", "content": "served by " + model}}
	if lp, _ := body["logprobs"].(bool); lp {
		// vLLM's ChatCompletionLogProbs; with return_tokens_as_token_ids
		// each token is spelled "token_id:<id>".
		asIDs, _ := body["return_tokens_as_token_ids"].(bool)
		var content []map[string]any
		for i, tok := range []string{"served", " by", " " + model} {
			t := tok
			if asIDs {
				t = fmt.Sprintf("token_id:%d", 100+i)
			}
			content = append(content, map[string]any{"token": t, "logprob": -0.25 * float64(i+1), "bytes": nil, "top_logprobs": []any{}})
		}
		choice["logprobs"] = map[string]any{"content": content}
	}
	reply := map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": model,
		"choices": []map[string]any{choice},
		"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
	}
	if ids, _ := body["return_token_ids"].(bool); ids {
		// vLLM ≥ 0.10: prompt ids on the response, completion ids per choice.
		reply["prompt_token_ids"] = []int{1, 2, 3}
		choice["token_ids"] = []int{100, 101, 102}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(reply)
}
