package task

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"testing/fstest"
)

// JSONLFiles lays out a generated task's data folder in memory (what a
// Bundle's Generate returns): each file name (public/train.jsonl, …) holds
// its records, one JSON object per line, keys in sorted order. Files are
// read-only.
func JSONLFiles(files map[string][]map[string]string) (fs.FS, error) {
	out := fstest.MapFS{}
	for name, recs := range files {
		var buf bytes.Buffer
		for _, rec := range recs {
			b, err := json.Marshal(rec)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", name, err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		out[name] = &fstest.MapFile{Data: buf.Bytes(), Mode: 0o444}
	}
	return out, nil
}
