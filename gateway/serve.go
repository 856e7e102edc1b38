package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr (use "127.0.0.1:0" for a free loopback port) and
// serves the handler until ctx ends, then shuts down (request contexts
// derive from ctx, so in-flight upstream calls are cancelled). It returns the base URL for OPENAI_BASE_URL, e.g.
// "http://127.0.0.1:41234/v1".
func (g *Gateway) Serve(ctx context.Context, addr string) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("gateway listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() { // owned by ctx: returns when the server is shut down below
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.cfg.Logger.Error("gateway serve", "err", err)
		}
	}()
	go func() { // owned by ctx
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/v1", nil
}
