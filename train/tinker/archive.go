package tinker

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sia-agent/sia/adapter"
)

// parseSamplerPath splits tinker://<run>/sampler_weights/<ckpt>.
func parseSamplerPath(p string) (run, kind, ckpt string, err error) {
	rest, ok := strings.CutPrefix(p, "tinker://")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("tinker path %q: want tinker://<run>/<weights|sampler_weights>/<checkpoint>", p)
	}
	return parts[0], parts[1], parts[2], nil
}

// archiveURL asks for the signed download URL of a checkpoint archive, as
// the SDK's get_checkpoint_archive_url does: Accept application/json, no
// redirect following; the answer is a 200 {"url", "expires"} (current
// backends) or a 302 whose Location is the URL (earlier ones). The SDK sends
// the checkpoint id as "<kind>/<ckpt>"; SkyRL-tx's route takes the bare
// "<ckpt>", so a 404 on the first form tries the second.
func (t *Trainer) archiveURL(ctx context.Context, samplerPath string) (string, error) {
	run, kind, ckpt, err := parseSamplerPath(samplerPath)
	if err != nil {
		return "", err
	}
	noRedirect := *t.cfg.HTTPClient
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ids := []string{kind + "/" + ckpt, ckpt}
	for attempt := 0; ; attempt++ {
		id := ids[0]
		u := fmt.Sprintf("%s/api/v1/training_runs/%s/checkpoints/%s/archive", t.cfg.BaseURL, url.PathEscape(run), id)
		req, err := t.c.newRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := noRedirect.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			if serr := sleep(ctx, t.c.backoff(attempt)); serr != nil {
				return "", serr
			}
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			t.c.billingOK()
			var r struct {
				URL     string `json:"url"`
				Expires string `json:"expires"`
			}
			if err := json.Unmarshal(body, &r); err != nil || r.URL == "" {
				return "", fmt.Errorf("checkpoint archive %s: 200 without a url (%v): %s", samplerPath, err, errorMessage(body))
			}
			ref, err := req.URL.Parse(r.URL)
			if err != nil {
				return "", fmt.Errorf("checkpoint archive %s: bad url %q: %w", samplerPath, r.URL, err)
			}
			return ref.String(), nil
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusTemporaryRedirect:
			t.c.billingOK()
			loc := resp.Header.Get("Location")
			if loc == "" {
				return "", fmt.Errorf("checkpoint archive %s: redirect without Location", samplerPath)
			}
			ref, err := req.URL.Parse(loc)
			if err != nil {
				return "", fmt.Errorf("checkpoint archive %s: bad Location %q: %w", samplerPath, loc, err)
			}
			return ref.String(), nil
		case resp.StatusCode == http.StatusNotFound && len(ids) > 1:
			ids = ids[1:]
		case resp.StatusCode == http.StatusPaymentRequired:
			if err := t.c.onBilling("checkpoint archive", body); err != nil {
				return "", err
			}
			if err := sleep(ctx, t.c.backoff(attempt)); err != nil {
				return "", err
			}
		case resp.StatusCode == http.StatusTooManyRequests:
			if err := sleep(ctx, t.c.rateLimited("checkpoint archive", resp, attempt)); err != nil {
				return "", err
			}
		case resp.StatusCode == http.StatusTooEarly || retryableStatus(resp.StatusCode):
			// 425: the checkpoint is still being written.
			if err := sleep(ctx, t.c.backoff(attempt)); err != nil {
				return "", fmt.Errorf("checkpoint archive %s: HTTP %d: %w", samplerPath, resp.StatusCode, err)
			}
		default:
			return "", &StatusError{Route: "checkpoint archive", Status: resp.StatusCode, Message: errorMessage(body)}
		}
	}
}

// download fetches the sampler checkpoint archive and unpacks it as the
// SDK's `tinker checkpoint download` does: a plain GET of the signed URL
// (no credentials: it points at object storage), a tar archive (gzip'd or
// not: Python's tarfile "r" mode reads both) with links and escaping paths
// refused. The PEFT adapter it holds moves into dir after validation; the
// archive's checkpoint_complete marker is not part of the adapter.
func (t *Trainer) download(ctx context.Context, samplerPath, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.FutureTimeout)
	defer cancel()
	u, err := t.archiveURL(ctx, samplerPath)
	if err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	resp, err := t.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("download adapter: HTTP %d: %s", resp.StatusCode, errorMessage(b))
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".tinker-archive-")
	if err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := untar(resp.Body, tmp); err != nil {
		return fmt.Errorf("download adapter %s: %w", samplerPath, err)
	}
	src, err := findAdapter(tmp)
	if err != nil {
		return fmt.Errorf("download adapter %s: %w", samplerPath, err)
	}
	if _, err := adapter.Validate(src, adapter.Expect{Rank: t.cfg.Rank}); err != nil {
		return fmt.Errorf("download adapter %s: %w", samplerPath, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("download adapter: %w", err)
	}
	for _, e := range entries {
		if e.Name() == completeMarker {
			continue
		}
		if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("download adapter: move %s: %w", e.Name(), err)
		}
	}
	return nil
}

// completeMarker is the file a finished Tinker checkpoint archive holds
// beside the adapter.
const completeMarker = "checkpoint_complete"

// untar unpacks a tar (gzip'd or not) into dir, refusing links, entries
// that would land outside it and anything but regular files and folders.
func untar(r io.Reader, dir string) error {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read gzip: %w", err)
		}
		defer gz.Close()
		src = gz
	}
	tr := tar.NewReader(src)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q escapes the folder", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, cerr := io.Copy(f, tr)
			if err := f.Close(); cerr == nil {
				cerr = err
			}
			if cerr != nil {
				return fmt.Errorf("unpack %s: %w", name, cerr)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("archive entry %q is a link: unsafe, refused", h.Name)
		default:
			return fmt.Errorf("archive entry %q is not a file or folder", h.Name)
		}
	}
}

// findAdapter returns the folder holding adapter_config.json: dir itself or
// its only such descendant.
func findAdapter(dir string) (string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == adapter.ConfigFile {
			found = append(found, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: archive holds no %s", adapter.ErrInvalid, adapter.ConfigFile)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: archive holds %d adapters", adapter.ErrInvalid, len(found))
}
