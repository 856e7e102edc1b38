package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/tinylm"
)

// TestBaseForShipped: a base that ships for the corpus's key is copied into
// the cache and loaded, without pretraining; a damaged one is an error that
// writes nothing; a key with no shipped base pretrains.
func TestBaseForShipped(t *testing.T) {
	corpus := [][]int{{tinylm.TokBOS, 'a', 'b', 'c'}}
	cfg := BaseConfig{Model: tinylm.Config{DModel: 32, Layers: 1, Heads: 2, MLP: 64, Context: 64, Seed: 2}, Pretrain: tinylm.PretrainOptions{Steps: 2, BatchSeqs: 2, SeqLen: 3}}
	want := tiny(t)
	file := filepath.Join(t.TempDir(), "m.safetensors")
	if err := want.Save(file); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	manifest := func(key, sha string) *fstest.MapFile {
		b, _ := json.Marshal([]shippedBase{{Task: "demo", Key: key, File: "demo.safetensors", SHA256: sha}})
		return &fstest.MapFile{Data: b}
	}
	fsys := fstest.MapFS{"manifest.json": manifest(CacheKey(corpus, cfg), hex.EncodeToString(sum[:])), "demo.safetensors": {Data: data}}

	dir := t.TempDir()
	pretrained := false
	got, path, err := baseFor(t.Context(), "demo", corpus, cfg, dir, func(int, int, float64) { pretrained = true }, shipped{fsys: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if pretrained || got.Hash() != want.Hash() {
		t.Fatalf("shipped base: pretrained %v, same weights %v", pretrained, got.Hash() == want.Hash())
	}
	if cached, err := os.ReadFile(path); err != nil || string(cached) != string(data) {
		t.Fatalf("shipped base not copied into the cache: %v", err)
	}

	// Damaged bytes: an error naming the hash, and nothing in the cache.
	fsys["manifest.json"] = manifest(CacheKey(corpus, cfg), strings.Repeat("0", 64))
	dir2 := t.TempDir()
	if _, _, err := baseFor(t.Context(), "demo", corpus, cfg, dir2, nil, shipped{fsys: fsys}); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("damaged shipped base: %v", err)
	}
	if ents, _ := os.ReadDir(dir2); len(ents) != 0 {
		t.Fatalf("damaged shipped base left %d files in the cache", len(ents))
	}

	// Another corpus has no shipped base: it is pretrained.
	pretrained = false
	if _, _, err := baseFor(t.Context(), "demo", [][]int{{tinylm.TokBOS, 'x', 'y', 'z'}}, cfg, t.TempDir(), func(int, int, float64) { pretrained = true }, shipped{fsys: fsys}); err != nil || !pretrained {
		t.Fatalf("unshipped key: err %v, pretrained %v", err, pretrained)
	}
}

// TestShippedManifestReadable: the manifest built into sia parses and names
// files that exist (mkbase's test checks keys and hashes against the tasks).
func TestShippedManifestReadable(t *testing.T) {
	s := shippedBases()
	bases, err := s.list()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bases {
		if _, ok, err := s.lookup(b.Key); err != nil || !ok {
			t.Errorf("%s: lookup: ok %v, %v", b.File, ok, err)
		}
	}
}
