package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// APIError is an error answer from the server, after retries.
type APIError struct {
	Status  int    // HTTP status
	Type    string // error.type, e.g. "invalid_request_error"
	Code    string // error.code, e.g. "rate_limit_exceeded"; vLLM's int code as text
	Message string // error.message
}

// Error is one line: status, type or code, message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "openai api: %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	for _, s := range []string{e.Type, e.Code} {
		if s != "" && s != strconv.Itoa(e.Status) {
			b.WriteString(" (" + s + ")")
			break
		}
	}
	if e.Message != "" {
		b.WriteString(": " + oneLine(e.Message))
	}
	return b.String()
}

// HTTPStatus lets callers (the gateway) map the failure to a status code
// without importing this package.
func (e *APIError) HTTPStatus() int { return e.Status }

func wrapError(err error) error {
	var ae *sdk.Error
	if !errors.As(err, &ae) {
		return err
	}
	return &APIError{Status: ae.StatusCode, Type: ae.Type, Code: ae.Code, Message: ae.Message}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const limit = 500
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// normalizeErrorBody rewrites error bodies into the OpenAI envelope
// {"error":{"message","type","param","code"}} before the SDK parses them.
// vLLM's older servers send the flat {"object":"error","message",...} form
// and an integer code, others send {"error":"text"}; the SDK would
// otherwise lose the message or fail to decode.
var normalizeErrorBody option.Middleware = func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	res, err := next(req)
	if err != nil || res == nil || res.StatusCode < 400 || res.Body == nil {
		return res, err
	}
	body, readErr := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if readErr != nil {
		return nil, fmt.Errorf("read error body: %w", readErr)
	}
	res.Body = io.NopCloser(bytes.NewReader(normalizeError(body)))
	res.ContentLength = -1
	res.Header.Del("Content-Length")
	return res, nil
}

func normalizeError(body []byte) []byte {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return envelope(map[string]json.RawMessage{}, strings.TrimSpace(string(body)))
	}
	inner := top
	if raw, ok := top["error"]; ok {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			inner = obj
		} else {
			var text string
			_ = json.Unmarshal(raw, &text)
			return envelope(map[string]json.RawMessage{}, text)
		}
	}
	return envelope(inner, "")
}

// envelope writes the OpenAI error envelope with string-typed fields.
func envelope(fields map[string]json.RawMessage, message string) []byte {
	str := func(key string) string {
		raw, ok := fields[key]
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
		return ""
	}
	if message == "" {
		message = str("message")
		if message == "" {
			message = str("detail") // FastAPI-style bodies
		}
	}
	out, _ := json.Marshal(map[string]map[string]string{"error": {
		"message": message, "type": str("type"), "param": str("param"), "code": str("code"),
	}})
	return out
}
