package anthropic

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
)

// APIError is an error answer from the API, after retries.
type APIError struct {
	Status  int    // HTTP status
	Type    string // error.type, e.g. "rate_limit_error", "overloaded_error"
	Message string // error.message
}

// Error is one line: status, type, message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "anthropic api: %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Type != "" {
		b.WriteString(" (" + e.Type + ")")
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
	return &APIError{Status: ae.StatusCode, Type: string(ae.Type()), Message: ae.Message}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const limit = 500
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
