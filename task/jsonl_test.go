package task

import (
	"io/fs"
	"testing"
)

func TestJSONLFiles(t *testing.T) {
	fsys, err := JSONLFiles(map[string][]map[string]string{
		"public/val.jsonl":    {{"word": "ab", "id": "v-1"}, {"id": "v-2"}},
		"private/empty.jsonl": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "public/val.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"id\":\"v-1\",\"word\":\"ab\"}\n{\"id\":\"v-2\"}\n"; string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
	recs, err := ReadRecordsBytes("val.jsonl", b)
	if err != nil || len(recs) != 2 || recs[0]["word"] != "ab" {
		t.Fatalf("read back %v, %v", recs, err)
	}
	st, err := fs.Stat(fsys, "private/empty.jsonl")
	if err != nil || st.Size() != 0 || st.Mode().Perm()&0o222 != 0 {
		t.Fatalf("empty file: %v, %v", st, err)
	}
}
