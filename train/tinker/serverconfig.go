package tinker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/klauspost/compress/zstd"
)

// fetchServerConfig asks client/config for the server's flags, as the SDK
// does before its first session. A server without the route (404 or 405:
// SkyRL-tx, older deployments) gets the SDK's defaults: JSON bodies.
func (t *Trainer) fetchServerConfig(ctx context.Context) error {
	var sc serverConfig
	err := t.c.post(ctx, "client/config", clientConfigRequest{SDKVersion: SDKVersion}, &sc)
	var se *StatusError
	switch {
	case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed):
		sc = serverConfig{}
	case err != nil:
		return fmt.Errorf("tinker client config: %w", err)
	}
	t.c.server = sc
	t.emit(Event{Kind: "config", Message: fmt.Sprintf("forward_backward wire: %s", t.wire())})
	return nil
}

// wire is the forward_backward body format in use.
func (t *Trainer) wire() string {
	switch {
	case t.cfg.Wire != WireAuto:
		return t.cfg.Wire
	case t.c.server.ProtoWriteFwdBwd:
		return WireProtobuf
	}
	return WireJSON
}

// fwdBwdPayload encodes a forward_backward request in the wire in use: the
// binary form (zstd-compressed when the server asks) or JSON.
func (t *Trainer) fwdBwdPayload(r forwardBackwardRequest) (payload, error) {
	if t.wire() == WireJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return payload{}, fmt.Errorf("tinker forward_backward: encode: %w", err)
		}
		return payload{body: b}, nil
	}
	b, err := encodeForwardBackward(r)
	if err != nil {
		return payload{}, fmt.Errorf("tinker forward_backward: encode binary: %w", err)
	}
	p := payload{body: b, contentType: ProtoContentType}
	if t.c.server.ProtoCompressFwdBwd {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			return payload{}, fmt.Errorf("tinker forward_backward: zstd: %w", err)
		}
		p.body = enc.EncodeAll(b, nil)
		enc.Close()
		p.encoding = "zstd"
	}
	return p, nil
}
