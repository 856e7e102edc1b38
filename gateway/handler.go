package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/llm"
)

// Handler serves the OpenAI-compatible routes.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", g.auth(g.handleChat))
	mux.HandleFunc("GET /v1/models", g.auth(g.handleModels))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, NewError("invalid_request_error", "not_found", "no route "+r.Method+" "+r.URL.Path))
	})
	return mux
}

// auth finds the route of the request's Bearer key (routes are looked up
// by a hash of their key, so the lookup takes no time that depends on how
// much of a guess matched).
func (g *Gateway) auth(next func(http.ResponseWriter, *http.Request, *Route)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		rt, found := g.route(key)
		if !ok || !found {
			writeError(w, http.StatusUnauthorized, NewError("invalid_request_error", "invalid_api_key",
				"invalid or missing API key: send the rollout's key as a Bearer token (OPENAI_API_KEY)"))
			return
		}
		next(w, r, rt)
	}
}

func (g *Gateway) handleModels(w http.ResponseWriter, r *http.Request, rt *Route) {
	now := time.Now().Unix()
	list := ModelList{Object: "list", Data: []ModelCard{{ID: PolicyModel, Object: "model", Created: now, OwnedBy: "sia"}}}
	if name := rt.policy.Name; rt.policy.Model != nil && name != "" && name != PolicyModel {
		list.Data = append(list.Data, ModelCard{ID: name, Object: "model", Created: now, OwnedBy: "sia"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (g *Gateway) handleChat(w http.ResponseWriter, r *http.Request, rt *Route) {
	var wire ChatRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err := dec.Decode(&wire); err != nil {
		writeError(w, http.StatusBadRequest, NewError("invalid_request_error", "invalid_json", "request body: "+err.Error()))
		return
	}
	req, err := FromChatRequest(wire)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			writeError(w, http.StatusBadRequest, paramError(fe.Field, fe.Message))
			return
		}
		writeError(w, http.StatusBadRequest, NewError("invalid_request_error", "", err.Error()))
		return
	}
	if g.cfg.StrictModel && !rt.serves(wire.Model) {
		writeError(w, http.StatusNotFound, NewError("invalid_request_error", "model_not_found",
			fmt.Sprintf("model %q is not served here; use %q", wire.Model, PolicyModel)))
		return
	}
	tag := tagOf(r, wire)
	opts := ReplyOptionsOf(wire)
	id := "chatcmpl-sia-" + strconv.FormatInt(g.nextID.Add(1), 10)
	created := time.Now().Unix()
	model := wire.Model
	if model == "" {
		model = PolicyModel
	}
	if !wire.Stream {
		c, err := g.call(r.Context(), rt, tag, req)
		if err != nil {
			if status, body, ok := errorReply(r.Context(), err); ok {
				writeError(w, status, body)
			}
			return
		}
		writeJSON(w, http.StatusOK, ToChatCompletion(id, created, model, c, opts))
		return
	}
	g.stream(w, r, rt, tag, req, func(c *llm.Completion) []Chunk { return ToChunks(id, created, model, c, opts) })
}

// serves says whether name routes to the policy under StrictModel.
func (rt *Route) serves(name string) bool {
	if name == "" || name == PolicyModel {
		return true
	}
	return rt.policy.Model != nil && name == rt.policy.Name
}

// tagOf reads the call's tag from the header, else from the user field.
func tagOf(r *http.Request, wire ChatRequest) callTag {
	raw := r.Header.Get(TagHeader)
	if raw == "" {
		raw = wire.User
	}
	t, ok, err := ParseTag(raw)
	return callTag{tag: t, ok: ok, raw: raw, err: err}
}

// stream answers with SSE. The upstream call runs while the handler sends
// keep-alive comments; an error before anything was written gets a status
// code, one after gets an in-band error line (ollama's rule).
func (g *Gateway) stream(w http.ResponseWriter, r *http.Request, rt *Route, tag callTag, req llm.Request, chunks func(*llm.Completion) []Chunk) {
	type result struct {
		c   *llm.Completion
		err error
	}
	done := make(chan result, 1)
	go func() { // ends when the call does; r.Context() bounds it
		c, err := g.call(r.Context(), rt, tag, req)
		done <- result{c, err}
	}()
	rc := http.NewResponseController(w)
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
		w.WriteHeader(http.StatusOK)
	}
	tick := time.NewTicker(g.cfg.StreamKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			start()
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return // client gone; r.Context() cancels the call
			}
			_ = rc.Flush()
		case res := <-done:
			if res.err != nil {
				status, body, ok := errorReply(r.Context(), res.err)
				if !ok {
					return
				}
				if !started {
					writeError(w, status, body)
					return
				}
				writeEvent(w, body)
				_ = rc.Flush()
				return
			}
			start()
			for _, ch := range chunks(res.c) {
				if err := writeEvent(w, ch); err != nil {
					return
				}
			}
			_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
			_ = rc.Flush()
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "data: %s\n\n", b)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"encode reply","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, e ErrorResponse) {
	if status == http.StatusTooManyRequests && e.Error.Code != nil && *e.Error.Code == "insufficient_quota" {
		// The budget will not come back: tell the SDKs not to retry.
		w.Header().Set("X-Should-Retry", "false")
	}
	writeJSON(w, status, e)
}

// httpStatuser is what the backends' API errors implement.
type httpStatuser interface{ HTTPStatus() int }

// errorReply maps a call's error to a status and envelope; ok is false when
// the client is gone and nothing should be written.
func errorReply(ctx context.Context, err error) (status int, body ErrorResponse, ok bool) {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return 0, ErrorResponse{}, false
	}
	msg := oneLine(err.Error())
	var hs httpStatuser
	var unsupported *llm.UnsupportedError
	switch {
	case errors.As(err, &unsupported):
		return http.StatusBadRequest, paramError(unsupported.Field,
			fmt.Sprintf("Unsupported parameter: '%s' is not supported by the task model (%s)", unsupported.Field, msg)), true
	case errors.Is(err, errNoPolicy), errors.Is(err, llm.ErrNoModel):
		return http.StatusServiceUnavailable, NewError("server_error", "no_policy", msg), true
	case errors.Is(err, budget.ErrBudget):
		return http.StatusTooManyRequests, NewError("insufficient_quota", "insufficient_quota", msg), true
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, NewError("server_error", "upstream_timeout", msg), true
	case errors.As(err, &hs):
		switch s := hs.HTTPStatus(); {
		case s == http.StatusTooManyRequests:
			return s, NewError("rate_limit_error", "rate_limit_exceeded", msg), true
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			// The gateway's upstream credentials failed, not the caller's.
			return http.StatusBadGateway, NewError("server_error", "upstream_auth", msg), true
		case s >= 400 && s < 500:
			return s, NewError("invalid_request_error", "", msg), true
		}
	}
	return http.StatusBadGateway, NewError("server_error", "upstream_error", msg), true
}

// paramError is OpenAI's envelope for a parameter it will not take:
// invalid_request_error, code unsupported_parameter, param naming it.
func paramError(field, message string) ErrorResponse {
	e := NewError("invalid_request_error", "unsupported_parameter", message)
	e.Error.Param = &field
	return e
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
