package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// fixture lays out, in a temp dir:
//
//	gen/harness.star       the generation folder (read-write)
//	task/public/train.csv  public data, mounted read-only via os.DirFS
//	task/public/leak       symlink → ../private/gold.csv
//	task/private/gold.csv  gold labels: must be unreachable
//	secret.txt             outside everything
//	gen/out                symlink → ../secret.txt
//	gen/in                 symlink → harness.star (inside: allowed)
func fixture(t *testing.T) (*workspace, string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"gen/harness.star":      "def solve(item):\n    return 'a'\n",
		"task/public/train.csv": "id,question\n1,q\n",
		"task/private/gold.csv": "id,label\n1,GOLD-42\n",
		"secret.txt":            "SECRET",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"task/public/leak": "../private/gold.csv",
		"task/public/up":   "..",
		"gen/out":          "../secret.txt",
		"gen/abs":          filepath.Join(dir, "secret.txt"),
		"gen/in":           "harness.star",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	docs := fstest.MapFS{"harness.md": {Data: []byte("# API\nmodel.chat(messages)\n")}}
	ws, err := openWorkspace(filepath.Join(dir, "gen"), os.DirFS(filepath.Join(dir, "task", "public")), docs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, dir
}

func TestWorkspaceReads(t *testing.T) {
	ws, _ := fixture(t)
	tests := []struct {
		path    string
		want    string // substring of the content; "" means an error is expected
		errPart string
	}{
		{path: "harness.star", want: "def solve"},
		{path: "./harness.star", want: "def solve"},
		{path: "sub/../harness.star", want: "def solve"},
		{path: "in", want: "def solve"}, // a link that stays inside
		{path: "docs/harness.md", want: "model.chat"},
		{path: "public/train.csv", want: "id,question"},
		{path: "public/../harness.star", want: "def solve"},
		{path: "../secret.txt", errPart: "leaves the workspace"},
		{path: "../task/private/gold.csv", errPart: "leaves the workspace"},
		{path: "public/../../task/private/gold.csv", errPart: "leaves the workspace"},
		{path: "a/../../secret.txt", errPart: "leaves the workspace"},
		{path: "/etc/passwd", errPart: "absolute"},
		{path: "C:/Windows/win.ini", errPart: "absolute"},
		{path: `..\secret.txt`, errPart: "separator"},
		{path: "out", errPart: "escapes"}, // relative link out of the generation folder
		{path: "abs", errPart: "escapes"}, // absolute link out of it
		{path: "public/leak", errPart: "symbolic links"},
		{path: "public/up/private/gold.csv", errPart: "symbolic links"},
		{path: "missing.txt", errPart: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b, err := ws.ReadFile(tt.path)
			if tt.want != "" {
				if err != nil || !strings.Contains(string(b), tt.want) {
					t.Fatalf("read %q = %q, %v; want content with %q", tt.path, b, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("read %q succeeded with %q; want an error", tt.path, b)
			}
			if strings.Contains(string(b), "GOLD") || strings.Contains(string(b), "SECRET") {
				t.Fatalf("leaked %q", b)
			}
			if !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("err %q lacks %q", err, tt.errPart)
			}
		})
	}
}

func TestWorkspaceWrites(t *testing.T) {
	ws, dir := fixture(t)
	tests := []struct {
		path    string
		errPart string // "" means the write must succeed
	}{
		{path: "notes/plan.md"},
		{path: "harness.star"},
		{path: "docs/harness.md", errPart: "read-only"},
		{path: "public/train.csv", errPart: "read-only"},
		{path: "../secret.txt", errPart: "leaves the workspace"},
		{path: "/tmp/x", errPart: "absolute"},
		{path: "out", errPart: "escapes"},
		{path: ".", errPart: "folder"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := ws.WriteFile(tt.path, []byte("WRITTEN"))
			if tt.errPart == "" {
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dir, "gen", filepath.FromSlash(tt.path)))
				if err != nil || string(b) != "WRITTEN" {
					t.Fatalf("on disk: %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Fatalf("err %v, want one containing %q", err, tt.errPart)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "secret.txt")); string(b) != "SECRET" {
		t.Errorf("secret.txt was changed to %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "task/public/train.csv")); string(b) == "WRITTEN" {
		t.Error("public file was changed")
	}
}

func TestWorkspaceListDir(t *testing.T) {
	ws, _ := fixture(t)
	tests := []struct {
		path    string
		want    []string
		errPart string
	}{
		{path: ".", want: []string{"abs", "docs/", "harness.star", "in", "out", "public/"}},
		{path: "", want: []string{"docs/", "public/"}},
		{path: "docs", want: []string{"harness.md"}},
		{path: "public", want: []string{"leak", "train.csv", "up"}},
		{path: "..", errPart: "leaves the workspace"},
		{path: "public/up", errPart: "symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			out, err := fileTools(ws)[0].Run(context.Background(), mustRaw(map[string]string{"path": tt.path}))
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("err %v, want %q", err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("listing lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestWorkspaceMissingMount(t *testing.T) {
	ws, err := openWorkspace(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.ReadFile("docs/harness.md"); err == nil || !strings.Contains(err.Error(), "no docs/ folder") {
		t.Errorf("err %v", err)
	}
	// A mount name is reserved even when absent: it must not fall through
	// to a writable folder of that name.
	if err := ws.WriteFile("public/x", []byte("x")); err == nil {
		t.Error("write under an absent mount succeeded")
	}
	if _, err := ws.ReadFile("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v is not fs.ErrNotExist", err)
	}
}

func mustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
