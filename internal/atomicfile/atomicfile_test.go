package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Files are written whole and readable by others, like os.WriteFile's.
func TestWriteModeAndContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.json")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("content %q, %v", b, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

// A streamed file appears only on Commit; Abort leaves the old content and
// no temp file.
func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		commit bool
		want   string
	}{{"abort", false, "old"}, {"commit", true, "new"}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("new")); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(p); string(b) != "old" && !tc.commit {
				t.Fatalf("visible before commit: %q", b)
			}
			if tc.commit {
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			f.Abort()
			if b, _ := os.ReadFile(p); string(b) != tc.want {
				t.Errorf("content %q, want %q", b, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("temp files left: %v", entries)
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v", st.Mode().Perm())
			}
		})
	}
}
