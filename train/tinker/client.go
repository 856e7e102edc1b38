package tinker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// FutureError is an operation the service ran and reported as failed.
type FutureError struct {
	Op        string // request type, e.g. ForwardBackward
	RequestID string
	Message   string
	// Category is "user" (the request was wrong: never retried), "server"
	// or "unknown".
	Category string
}

func (e *FutureError) Error() string {
	return fmt.Sprintf("tinker %s (request %s) failed [%s]: %s", e.Op, e.RequestID, e.Category, e.Message)
}

// StatusError is a non-retryable HTTP answer to a submission.
type StatusError struct {
	Route   string
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("tinker %s: HTTP %d: %s", e.Route, e.Status, e.Message)
}

// errExpired marks a 410 from retrieve_future: resubmit the operation.
var errExpired = errors.New("future expired")

// maxResubmits bounds how often one operation is resubmitted after 410s.
const maxResubmits = 3

// client is the HTTP plumbing: submissions with retries and future polling.
type client struct {
	cfg  *Config
	http *http.Client
}

func (c *client) url(route string) string { return c.cfg.BaseURL + "/api/v1/" + route }

func (c *client) newRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// JSON only: newer SDKs also accept protobuf results, which this client
	// does not decode.
	req.Header.Set("Accept", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("X-API-Key", c.cfg.APIKey)
	}
	return req, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBase
	for i := 0; i < attempt && d < c.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.cfg.RetryMax)
}

// retryableStatus is the SDK RetryHandler's rule for submissions.
func retryableStatus(code int) bool {
	return code == 408 || code == 409 || code == 429 || code >= 500
}

// post submits body to route and decodes a 2xx answer into out, retrying
// transient failures until ctx ends.
func (c *client) post(ctx context.Context, route string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("tinker %s: encode: %w", route, err)
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, http.MethodPost, c.url(route), b)
		if err != nil {
			return fmt.Errorf("tinker %s: %w", route, err)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("tinker %s: %w", route, ctx.Err())
			}
			if serr := sleep(ctx, c.backoff(attempt)); serr != nil {
				return fmt.Errorf("tinker %s: %w (last error: %v)", route, serr, err)
			}
			continue
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if rerr == nil && resp.StatusCode/100 == 2 {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("tinker %s: decode reply: %w", route, err)
			}
			return nil
		}
		if rerr != nil || retryableStatus(resp.StatusCode) {
			if serr := sleep(ctx, c.backoff(attempt)); serr != nil {
				return fmt.Errorf("tinker %s: HTTP %d: %w", route, resp.StatusCode, serr)
			}
			continue
		}
		return &StatusError{Route: route, Status: resp.StatusCode, Message: errorMessage(data)}
	}
}

// errorMessage extracts a message from FastAPI ({"detail"}), Tinker
// ({"error"}) or OpenAI-style bodies, or returns the text.
func errorMessage(body []byte) string {
	var e struct {
		Detail json.RawMessage `json:"detail"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		for _, raw := range []json.RawMessage{e.Detail, e.Error} {
			if len(raw) == 0 {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s
			}
			return string(raw)
		}
	}
	if len(body) > 2000 {
		body = body[:2000]
	}
	return string(bytes.TrimSpace(body))
}

// operation submits body to route and waits for its future's result. A 410
// (expired future) resubmits; the deadline is Config.FutureTimeout.
func (c *client) operation(ctx context.Context, route, op string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FutureTimeout)
	defer cancel()
	for resubmit := 0; ; resubmit++ {
		var fut futureReply
		if err := c.post(ctx, route, body, &fut); err != nil {
			return c.deadlineErr(ctx, op, "", err)
		}
		if fut.RequestID == "" {
			return fmt.Errorf("tinker %s: reply carries no request_id", route)
		}
		raw, err := c.wait(ctx, string(fut.RequestID), op)
		if errors.Is(err, errExpired) && resubmit < maxResubmits {
			continue
		}
		if err != nil {
			return c.deadlineErr(ctx, op, string(fut.RequestID), err)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("tinker %s: decode result: %w", op, err)
		}
		return nil
	}
}

// deadlineErr names the operation and the deadline when ctx ran out.
func (c *client) deadlineErr(ctx context.Context, op, id string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("tinker %s: future %s not done within %s: %w", op, id, c.cfg.FutureTimeout, context.DeadlineExceeded)
	}
	return err
}

// wait polls retrieve_future for id until a final answer, following the
// Python SDK's _APIFuture._result_async.
func (c *client) wait(ctx context.Context, id, op string) (json.RawMessage, error) {
	body, _ := json.Marshal(retrieveFutureRequest{RequestID: id})
	connErrs, badRequests := 0, 0
	for iter := 0; ; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pollCtx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout)
		req, err := c.newRequest(pollCtx, http.MethodPost, c.url("retrieve_future"), body)
		if err != nil {
			cancel()
			return nil, err
		}
		req.Header.Set("X-Tinker-Request-Iteration", strconv.Itoa(iter))
		req.Header.Set("X-Tinker-Request-Type", op)
		resp, err := c.http.Do(req)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if pollCtx.Err() != nil {
				continue // the 45 s poll timed out: poll again
			}
			// Connection errors back off min(2^n, 30) s, scaled by RetryBase.
			d := min(c.cfg.RetryBase*time.Duration(1<<min(connErrs, 10)), 30*c.cfg.RetryBase)
			connErrs++
			if err := sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		cancel()
		connErrs = 0
		if rerr != nil {
			continue
		}
		switch code := resp.StatusCode; {
		case code == http.StatusOK:
			badRequests = 0
			var head struct {
				Type     string          `json:"type"`
				Status   string          `json:"status"`
				Error    json.RawMessage `json:"error"`
				Category string          `json:"category"`
			}
			if err := json.Unmarshal(data, &head); err != nil {
				return nil, fmt.Errorf("tinker %s: decode future %s: %w", op, id, err)
			}
			switch {
			case head.Type == "try_again", head.Status == "complete_metadata":
				if err := sleep(ctx, c.cfg.PollInterval); err != nil {
					return nil, err
				}
				continue
			case len(head.Error) > 0 && string(head.Error) != "null":
				cat := head.Category
				if cat == "" {
					cat = "unknown"
				}
				return nil, &FutureError{Op: op, RequestID: id, Message: errorMessage(data), Category: cat}
			}
			return data, nil
		case code == http.StatusRequestTimeout:
			// Pending (the body may carry queue_state): poll again.
			if err := sleep(ctx, c.cfg.PollInterval); err != nil {
				return nil, err
			}
		case code == http.StatusGone:
			return nil, errExpired
		case code >= 500:
			if err := sleep(ctx, c.backoff(0)); err != nil {
				return nil, err
			}
		case code == http.StatusBadRequest && len(bytes.TrimSpace(data)) > 0:
			// SkyRL-tx reports a handled failure as 400 {"detail": msg}.
			return nil, &FutureError{Op: op, RequestID: id, Message: errorMessage(data), Category: "unknown"}
		case code == http.StatusBadRequest && badRequests < 3:
			// A bare 400 may come from a load balancer: retry a few times.
			badRequests++
		default:
			return nil, &StatusError{Route: "retrieve_future", Status: code, Message: errorMessage(data)}
		}
	}
}
