package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// Progress reports a download: bytes done and total (-1 when unknown).
type Progress func(file string, done, total int64)

// ErrOffline wraps network failures: the source could not be reached.
var ErrOffline = errors.New("source unreachable (offline?)")

// ErrNeedsAuth wraps 401/403 answers: the source wants a token or the
// acceptance of its terms.
var ErrNeedsAuth = errors.New("source needs authorisation")

// ErrChecksum is returned when a download does not match its pinned sha256.
var ErrChecksum = errors.New("sha256 mismatch")

// Download fetches url into dest atomically: it writes a temporary file in
// dest's folder, checks the sha256 when want is set, and renames it into
// place only then. On any failure dest is left as it was. It returns the
// content's sha256.
func Download(ctx context.Context, client *http.Client, url, dest, want, token string, progress Progress) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		// Refused connections, DNS failures and timeouts all mean the
		// source cannot be reached from here.
		return "", fmt.Errorf("download %s: %w: %v", url, ErrOffline, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("download %s: %w (HTTP %d)", url, ErrNeedsAuth, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("download %s: HTTP %d", url, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	pw := &progressWriter{file: filepath.Base(dest), total: resp.ContentLength, fn: progress}
	if _, err := io.Copy(io.MultiWriter(tmp, h, pw), resp.Body); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("download %s: %w: %v", url, ErrOffline, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return got, fmt.Errorf("download %s: %w: got %s, pinned %s", url, ErrChecksum, got, want)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	ok = true
	return got, nil
}

type progressWriter struct {
	file  string
	done  int64
	total int64
	fn    Progress
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil {
		p.fn(p.file, p.done, p.total)
	}
	return len(b), nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
