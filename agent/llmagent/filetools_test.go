package llmagent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func toolByName(t *testing.T, tools []Tool, name string) Tool {
	t.Helper()
	for _, tl := range tools {
		if tl.Spec.Name == name {
			return tl
		}
	}
	t.Fatalf("no tool %s", name)
	return Tool{}
}

func TestReadFileTool(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("l0\nl1\nl2\nl3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := openWorkspace(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	read := toolByName(t, fileTools(ws), ToolReadFile)
	tests := []struct {
		name    string
		args    map[string]any
		want    string
		errPart string
	}{
		{"whole", map[string]any{"path": "f.txt"}, "[f.txt: lines 1-4 of 4]\nl0\nl1\nl2\nl3\n", ""},
		{"window", map[string]any{"path": "f.txt", "offset": 1, "limit": 2}, "[f.txt: lines 2-3 of 4]\nl1\nl2\n\n[1 more lines; read_file with offset 3]\n", ""},
		{"past end", map[string]any{"path": "f.txt", "offset": 9}, "[f.txt: 4 lines; offset 9 is past the end]\n", ""},
		{"negative offset", map[string]any{"path": "f.txt", "offset": -1}, "", "offset must be"},
		{"zero limit", map[string]any{"path": "f.txt", "limit": 0}, "", "limit ≥ 1"},
		{"missing path", map[string]any{"offset": 1}, "", "missing argument path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := read.Run(context.Background(), mustRaw(tt.args))
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("err %v, want %q", err, tt.errPart)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestEditAndWriteFileTools(t *testing.T) {
	tests := []struct {
		name    string
		start   string
		old     string
		new     string
		want    string
		errPart string
	}{
		{"replace once", "a = 1\nb = 2\n", "b = 2", "b = 3", "a = 1\nb = 3\n", ""},
		{"not found", "a = 1\n", "c = 1", "x", "a = 1\n", "not found"},
		{"ambiguous", "x\nx\n", "x", "y", "x\nx\n", "occurs 2 times"},
		{"empty old", "x\n", "", "y", "x\n", "old is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ws, err := openWorkspace(dir, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			tools := fileTools(ws)
			if _, err := toolByName(t, tools, ToolWriteFile).Run(context.Background(), mustRaw(map[string]string{"path": "h.star", "content": tt.start})); err != nil {
				t.Fatal(err)
			}
			_, err = toolByName(t, tools, ToolEditFile).Run(context.Background(), mustRaw(map[string]string{"path": "h.star", "old": tt.old, "new": tt.new}))
			if tt.errPart == "" && err != nil {
				t.Fatal(err)
			}
			if tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)) {
				t.Fatalf("err %v, want %q", err, tt.errPart)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "h.star"))
			if string(b) != tt.want {
				t.Errorf("file %q, want %q", b, tt.want)
			}
		})
	}
}

func TestWriteFileRefusesHugeContent(t *testing.T) {
	ws, err := openWorkspace(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, err = toolByName(t, fileTools(ws), ToolWriteFile).Run(context.Background(),
		mustRaw(map[string]string{"path": "big", "content": strings.Repeat("x", maxFileBytes+1)}))
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err %v", err)
	}
}
