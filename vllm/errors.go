package vllm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinels an *APIError unwraps to.
var (
	// ErrAlreadyLoaded: the server already holds an adapter of that name.
	ErrAlreadyLoaded = errors.New("lora adapter name already loaded")
	// ErrNotFound: unknown adapter name, or no adapter at the given path.
	ErrNotFound = errors.New("lora adapter not found")
)

// APIError is a non-2xx answer from the server.
type APIError struct {
	Status  int    // HTTP status
	Type    string // e.g. InvalidUserInput, BadRequestError, NotFoundError
	Message string
	Param   string
	Code    int
}

func (e *APIError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("vllm %d %s: %s", e.Status, e.Type, e.Message)
	}
	return fmt.Sprintf("vllm %d: %s", e.Status, e.Message)
}

// Unwrap maps the error onto ErrAlreadyLoaded or ErrNotFound.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusNotFound:
		return ErrNotFound
	case e.Status == http.StatusBadRequest && strings.Contains(e.Message, "already been loaded"):
		return ErrAlreadyLoaded
	}
	return nil
}

// errorBody holds both envelope shapes: the nested one fills Error, the flat
// one fills the top-level fields.
type errorBody struct {
	Error *struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Param   *string         `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   *string         `json:"param"`
	Code    json.RawMessage `json:"code"`
	Detail  json.RawMessage `json:"detail"` // FastAPI validation errors (422)
}

// parseError turns a non-2xx response body into an *APIError.
func parseError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		e.Message = strings.TrimSpace(string(body))
		return e
	}
	code := func(raw json.RawMessage) int {
		var n int
		if json.Unmarshal(raw, &n) == nil {
			return n
		}
		return 0
	}
	switch {
	case b.Error != nil:
		e.Message, e.Type, e.Code = b.Error.Message, b.Error.Type, code(b.Error.Code)
		if b.Error.Param != nil {
			e.Param = *b.Error.Param
		}
	case b.Message != "":
		e.Message, e.Type, e.Code = b.Message, b.Type, code(b.Code)
		if b.Param != nil {
			e.Param = *b.Param
		}
	case len(b.Detail) > 0:
		e.Message = string(b.Detail)
	default:
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}
