package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func hexSHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDownload(t *testing.T) {
	body := strings.Repeat("passenger,True\n", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/file":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write([]byte(body))
		case "/secret":
			if r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Write([]byte("ok"))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()

	tests := []struct {
		name    string
		path    string
		sha     string
		token   string
		wantErr error
		anyErr  bool
	}{
		{name: "pinned ok", path: "/file", sha: hexSHA(body)},
		{name: "unpinned ok", path: "/file"},
		{name: "sha mismatch rejected", path: "/file", sha: hexSHA("other"), wantErr: ErrChecksum},
		{name: "needs token", path: "/secret", wantErr: ErrNeedsAuth},
		{name: "token accepted", path: "/secret", token: "tok", sha: hexSHA("ok")},
		{name: "not found", path: "/nope", anyErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "sub", "out.csv")
			// A previous version must survive a failed download.
			os.MkdirAll(filepath.Dir(dest), 0o755)
			os.WriteFile(dest, []byte("previous"), 0o644)
			var calls int
			var last, total int64
			_, err := Download(t.Context(), srv.Client(), srv.URL+tc.path, dest, tc.sha, tc.token, func(_ string, done, tot int64) {
				calls++
				last, total = done, tot
			})
			got, _ := os.ReadFile(dest)
			entries, _ := os.ReadDir(filepath.Dir(dest))
			if len(entries) != 1 {
				t.Fatalf("temporary files left behind: %v", entries)
			}
			if tc.wantErr != nil || tc.anyErr {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if string(got) != "previous" {
					t.Fatalf("failed download changed the file: %q", got[:min(20, len(got))])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.path == "/file" {
				if string(got) != body {
					t.Fatal("content differs")
				}
				if calls == 0 || last != int64(len(body)) || total != int64(len(body)) {
					t.Fatalf("progress: %d calls, last %d of %d", calls, last, total)
				}
			}
		})
	}
}

func TestDownloadOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := Download(t.Context(), nil, url+"/x", filepath.Join(t.TempDir(), "x"), "", "", nil)
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("err = %v, want ErrOffline", err)
	}
}
