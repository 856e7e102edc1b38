package harness

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadSource(t *testing.T) {
	write := func(t *testing.T, dir string, files map[string]string) {
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name      string
		files     map[string]string
		path      string // relative to the temp dir; "" = the dir itself
		want      Source
		wantError string
	}{
		{name: "run folder with knobs", files: map[string]string{"harness.star": "x", "knobs.json": `{"n": 3, "t": 0.5}`},
			want: Source{Name: StarlarkFile, Code: []byte("x"), Knobs: map[string]any{"n": int64(3), "t": 0.5}}},
		{name: "folder without knobs", files: map[string]string{"target_agent.py": "y"},
			want: Source{Name: PythonFile, Code: []byte("y")}},
		{name: "a file under another name", files: map[string]string{"mine.star": "z"}, path: "mine.star",
			want: Source{Name: StarlarkFile, Code: []byte("z")}},
		{name: "both runtimes", files: map[string]string{"harness.star": "x", "target_agent.py": "y"}, wantError: "holds both"},
		{name: "empty folder", wantError: "holds neither"},
		{name: "bad knobs", files: map[string]string{"harness.star": "x", "knobs.json": `[1]`}, wantError: "knobs.json"},
		{name: "other extension", files: map[string]string{"h.txt": "x"}, path: "h.txt", wantError: "want a .star or .py"},
		{name: "missing", path: "nope.star", wantError: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.files)
			got, err := ReadSource(filepath.Join(dir, tt.path))
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
