package tinker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// BillingError is a 402 that outlasted the billing pause: the account's
// billing blocks the service.
type BillingError struct {
	Route   string
	Message string
	Paused  time.Duration
}

func (e *BillingError) Error() string {
	return fmt.Sprintf("tinker %s: HTTP 402 (billing): %s; paused and retried for %s, as the SDK does; settle the account's billing, then continue with --resume",
		e.Route, e.Message, e.Paused.Round(time.Second))
}

// errExpired marks a 410 from retrieve_future: resubmit the operation.
var errExpired = errors.New("future expired")

// SDKVersion is sent as sdk_version to create_session and client/config.
const SDKVersion = "sia-go"

// serverConfig is what POST client/config answers (the SDK's
// ClientConfigResponse); flags it does not name are ignored, as the SDK
// ignores unknown ones.
type serverConfig struct {
	// ProtoWriteFwdBwd: send forward_backward in the binary wire.
	ProtoWriteFwdBwd bool `json:"proto_write_fwdbwd"`
	// ProtoCompressFwdBwd: zstd-compress that body (Content-Encoding: zstd).
	ProtoCompressFwdBwd bool `json:"proto_compress_fwdbwd"`
	// BillingPauseS bounds how long 402 answers are waited out.
	BillingPauseS int `json:"billing_exception_max_pause_duration_sec"`
	// PJWTAuthEnabled: exchange the API key for short-lived JWTs (POST
	// auth/token) and send those as X-API-Key.
	PJWTAuthEnabled bool `json:"pjwt_auth_enabled"`
}

// maxResubmits bounds how often one operation is resubmitted after 410s.
const maxResubmits = 3

// client is the HTTP plumbing: submissions with retries and future polling.
type client struct {
	cfg    *Config
	http   *http.Client
	server serverConfig // from client/config; zero until fetched

	mu           sync.Mutex
	billingSince time.Time // start of the current 402 pause; zero when none
	billingNoted time.Time // last billing_pause event
	jwt          string    // the current JWT when the server wants JWTs

	refresh sync.Mutex // one auth/token exchange at a time
}

// defaultBillingPause is the SDK's default billing_exception_max_pause_duration_sec.
const defaultBillingPause = time.Hour

func (c *client) billingPause() time.Duration {
	switch {
	case c.cfg.BillingPause > 0:
		return c.cfg.BillingPause
	case c.server.BillingPauseS > 0:
		return time.Duration(c.server.BillingPauseS) * time.Second
	}
	return defaultBillingPause
}

// onBilling handles a 402: within the pause window it reports (at most
// once a minute) and returns nil so the caller waits and retries; after it,
// a *BillingError. A later success ends the pause (billingOK).
func (c *client) onBilling(route string, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.billingSince.IsZero() {
		c.billingSince = now
	}
	paused := now.Sub(c.billingSince)
	if paused >= c.billingPause() {
		return &BillingError{Route: route, Message: errorMessage(body), Paused: paused}
	}
	if c.billingNoted.IsZero() || now.Sub(c.billingNoted) >= time.Minute {
		c.billingNoted = now
		c.emit(Event{Kind: "billing_pause", Message: fmt.Sprintf("%s answered HTTP 402 (billing: %s); pausing and retrying for up to %s",
			route, errorMessage(body), c.billingPause()-paused)})
	}
	return nil
}

func (c *client) billingOK() {
	c.mu.Lock()
	c.billingSince, c.billingNoted = time.Time{}, time.Time{}
	c.mu.Unlock()
}

func (c *client) emit(e Event) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}

// rateLimited reports a 429 and returns how long to wait: Retry-After when
// the server sends one (capped at RetryMax), else the backoff.
func (c *client) rateLimited(route string, resp *http.Response, attempt int) time.Duration {
	d := c.backoff(attempt)
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		d = min(time.Duration(s)*time.Second, c.cfg.RetryMax)
	}
	c.emit(Event{Kind: "rate_limited", Message: fmt.Sprintf("%s answered HTTP 429 (rate limited); retrying in %s", route, d)})
	return d
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
	req.Header.Set("Accept", "application/json")
	key, err := c.credential(ctx)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	return req, nil
}

// jwtRefreshWithin is the SDK's on-demand refresh margin
// (_REFRESH_ON_DEMAND_SECS): a JWT with less left is exchanged again.
const jwtRefreshWithin = 60 * time.Second

// credential is what X-API-Key carries: the API key, or, when the server's
// client config sets pjwt_auth_enabled, a JWT the key was exchanged for,
// refreshed when it is within a minute of expiry, as the SDK's
// JwtAuthProvider does (a failed refresh keeps the cached token).
func (c *client) credential(ctx context.Context) (string, error) {
	if !c.server.PJWTAuthEnabled {
		return c.cfg.APIKey, nil
	}
	fresh := func() (string, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.jwt, c.jwt != "" && time.Until(jwtExpiry(c.jwt)) > jwtRefreshWithin
	}
	if tok, ok := fresh(); ok {
		return tok, nil
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	tok, ok := fresh()
	if ok {
		return tok, nil
	}
	jwt, err := c.exchange(ctx)
	if err != nil {
		if tok != "" {
			return tok, nil
		}
		return "", fmt.Errorf("tinker auth/token: %w", err)
	}
	c.mu.Lock()
	c.jwt = jwt
	c.mu.Unlock()
	return jwt, nil
}

// exchange posts {} to auth/token with the API key and returns the JWT.
// Transient failures (connection, 408, 429, 5xx) are retried three times.
func (c *client) exchange(ctx context.Context) (string, error) {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.backoff(attempt)); err != nil {
				return "", err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("auth/token"), strings.NewReader("{}"))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-API-Key", c.cfg.APIKey)
		resp, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			last = &StatusError{Route: "auth/token", Status: resp.StatusCode, Message: errorMessage(data)}
			if retryableStatus(resp.StatusCode) {
				continue
			}
			return "", last
		}
		var r struct {
			JWT string `json:"jwt"`
		}
		if err := json.Unmarshal(data, &r); err != nil || r.JWT == "" {
			return "", fmt.Errorf("reply carries no jwt (%v)", err)
		}
		return r.JWT, nil
	}
	return "", last
}

// jwtExpiry reads a JWT's exp claim without checking its signature (the
// token came from the service over TLS, as the SDK reasons); the zero time
// when it cannot.
func jwtExpiry(jwt string) time.Time {
	parts := strings.Split(jwt, ".")
	if len(parts) < 2 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(b, &claims) != nil || claims.Exp == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(claims.Exp)
	return time.Unix(int64(sec), int64(frac*1e9))
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

// payload is an encoded request body.
type payload struct {
	body        []byte
	contentType string // "" = application/json
	encoding    string // Content-Encoding, "" = none
}

// post submits body as JSON to route and decodes a 2xx answer into out,
// retrying transient failures until ctx ends.
func (c *client) post(ctx context.Context, route string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("tinker %s: encode: %w", route, err)
	}
	return c.send(ctx, route, payload{body: b}, out)
}

// send submits p to route: retries 408, 409, 429 (reported, Retry-After
// honoured) and 5xx with backoff, waits out 402 (billing) for the billing
// pause, and decodes a 2xx JSON answer into out.
func (c *client) send(ctx context.Context, route string, p payload, out any) error {
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, http.MethodPost, c.url(route), p.body)
		if err != nil {
			return fmt.Errorf("tinker %s: %w", route, err)
		}
		if p.contentType != "" {
			req.Header.Set("Content-Type", p.contentType)
		}
		if p.encoding != "" {
			req.Header.Set("Content-Encoding", p.encoding)
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
			c.billingOK()
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("tinker %s: decode reply: %w", route, err)
			}
			return nil
		}
		switch {
		case rerr != nil:
		case resp.StatusCode == http.StatusPaymentRequired:
			if err := c.onBilling(route, data); err != nil {
				return err
			}
		case resp.StatusCode == http.StatusTooManyRequests:
			if err := sleep(ctx, c.rateLimited(route, resp, attempt)); err != nil {
				return fmt.Errorf("tinker %s: HTTP 429: %w", route, err)
			}
			continue
		}
		if rerr != nil || retryableStatus(resp.StatusCode) || resp.StatusCode == http.StatusPaymentRequired {
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

// operation submits body as JSON to route and waits for its future's
// result. A 410 (expired future) resubmits; the deadline is
// Config.FutureTimeout.
func (c *client) operation(ctx context.Context, route, op string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("tinker %s: encode: %w", route, err)
	}
	return c.operationPayload(ctx, route, op, payload{body: b}, out)
}

// binaryResults are the request types whose results the SDK accepts in the
// binary wire (response_conv.PROTO_SUPPORTED_TYPES).
var binaryResults = map[string]bool{"ForwardBackward": true, "Sample": true}

// operationPayload is operation with an encoded body.
func (c *client) operationPayload(ctx context.Context, route, op string, p payload, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FutureTimeout)
	defer cancel()
	for resubmit := 0; ; resubmit++ {
		var fut futureReply
		if err := c.send(ctx, route, p, &fut); err != nil {
			return c.deadlineErr(ctx, op, "", err)
		}
		if fut.RequestID == "" {
			return fmt.Errorf("tinker %s: reply carries no request_id", route)
		}
		raw, binary, err := c.wait(ctx, string(fut.RequestID), op)
		if errors.Is(err, errExpired) && resubmit < maxResubmits {
			continue
		}
		if err != nil {
			return c.deadlineErr(ctx, op, string(fut.RequestID), err)
		}
		if out == nil {
			return nil
		}
		if binary {
			if err := decodeProtoResult(raw, out); err != nil {
				return fmt.Errorf("tinker %s: decode binary result: %w", op, err)
			}
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
// Python SDK's _APIFuture._result_async. binary says the result is in the
// binary wire (the server answered application/x-protobuf, which is asked
// for only for ForwardBackward and Sample results).
func (c *client) wait(ctx context.Context, id, op string) (result []byte, binary bool, err error) {
	connErrs, badRequests := 0, 0
	metadataOnly := true // the first answer may be size metadata alone
	for iter := 0; ; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		body, _ := json.Marshal(retrieveFutureRequest{RequestID: id, AllowMetadataOnly: metadataOnly})
		pollCtx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout)
		req, err := c.newRequest(pollCtx, http.MethodPost, c.url("retrieve_future"), body)
		if err != nil {
			cancel()
			return nil, false, err
		}
		req.Header.Set("X-Tinker-Request-Iteration", strconv.Itoa(iter))
		req.Header.Set("X-Tinker-Request-Type", op)
		if binaryResults[op] {
			req.Header.Set("Accept", ProtoContentType+", application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			if pollCtx.Err() != nil {
				continue // the 45 s poll timed out: poll again
			}
			// Connection errors back off min(2^n, 30) s, scaled by RetryBase.
			d := min(c.cfg.RetryBase*time.Duration(1<<min(connErrs, 10)), 30*c.cfg.RetryBase)
			connErrs++
			if err := sleep(ctx, d); err != nil {
				return nil, false, err
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
		if resp.StatusCode != http.StatusPaymentRequired {
			c.billingOK()
		}
		switch code := resp.StatusCode; {
		case code == http.StatusOK && strings.Contains(resp.Header.Get("Content-Type"), ProtoContentType):
			if !binaryResults[op] {
				return nil, false, fmt.Errorf("tinker %s: future %s answered %s, which was not asked for", op, id, ProtoContentType)
			}
			return data, true, nil
		case code == http.StatusOK:
			badRequests = 0
			var head struct {
				Type     string          `json:"type"`
				Status   string          `json:"status"`
				Error    json.RawMessage `json:"error"`
				Category string          `json:"category"`
			}
			if err := json.Unmarshal(data, &head); err != nil {
				return nil, false, fmt.Errorf("tinker %s: decode future %s: %w", op, id, err)
			}
			switch {
			case head.Status == "complete_metadata":
				// The result is ready; ask for it whole.
				metadataOnly = false
				continue
			case head.Type == "try_again":
				if err := sleep(ctx, c.cfg.PollInterval); err != nil {
					return nil, false, err
				}
				continue
			case len(head.Error) > 0 && string(head.Error) != "null":
				cat := head.Category
				if cat == "" {
					cat = "unknown"
				}
				return nil, false, &FutureError{Op: op, RequestID: id, Message: errorMessage(data), Category: cat}
			}
			return data, false, nil
		case code == http.StatusRequestTimeout:
			// Pending (the body may carry queue_state): poll again.
			if err := sleep(ctx, c.cfg.PollInterval); err != nil {
				return nil, false, err
			}
		case code == http.StatusGone:
			return nil, false, errExpired
		case code == http.StatusPaymentRequired:
			if err := c.onBilling("retrieve_future", data); err != nil {
				return nil, false, err
			}
			if err := sleep(ctx, c.backoff(iter)); err != nil {
				return nil, false, err
			}
		case code == http.StatusTooManyRequests:
			if err := sleep(ctx, c.rateLimited("retrieve_future", resp, iter)); err != nil {
				return nil, false, err
			}
		case code >= 500:
			if err := sleep(ctx, c.backoff(0)); err != nil {
				return nil, false, err
			}
		case code == http.StatusBadRequest && len(bytes.TrimSpace(data)) > 0:
			// SkyRL-tx reports a handled failure as 400 {"detail": msg}.
			return nil, false, &FutureError{Op: op, RequestID: id, Message: errorMessage(data), Category: "unknown"}
		case code == http.StatusBadRequest && badRequests < 3:
			// A bare 400 may come from a load balancer: retry a few times.
			badRequests++
		default:
			return nil, false, &StatusError{Route: "retrieve_future", Status: code, Message: errorMessage(data)}
		}
	}
}
