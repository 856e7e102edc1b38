package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sia-agent/sia/runstore/atomicfile"
)

// ErrExists is returned by Create when the run folder already exists.
var ErrExists = errors.New("run folder exists (pass --resume to continue it, or choose another --run-id)")

// Store is an open run folder. Append is safe for concurrent use; the loop
// is its only writer.
type Store struct {
	dir    string
	mu     sync.Mutex
	events *os.File
	seq    int
}

// Dir returns the run folder.
func (s *Store) Dir() string { return s.dir }

// GenDir returns gen_<n>/ (not created).
func (s *Store) GenDir(n int) string { return filepath.Join(s.dir, fmt.Sprintf("gen_%d", n)) }

// BestDir returns best/.
func (s *Store) BestDir() string { return filepath.Join(s.dir, "best") }

// Path joins parts under the run folder.
func (s *Store) Path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// Create makes a new run folder and writes run.json. It refuses an existing
// non-empty folder.
func Create(dir string, config any) (*Store, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{dir: dir}
	if err := s.WriteJSON("run.json", config); err != nil {
		return nil, err
	}
	if err := s.openEvents(); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens an existing run folder for resuming and returns its events.
func Open(dir string) (*Store, []Event, error) {
	if _, err := os.Stat(filepath.Join(dir, "run.json")); err != nil {
		return nil, nil, fmt.Errorf("%s is not a run folder: %w", dir, err)
	}
	events, err := ReadEvents(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &Store{dir: dir, seq: len(events)}
	if err := s.truncateTorn(events); err != nil {
		return nil, nil, err
	}
	if err := s.openEvents(); err != nil {
		return nil, nil, err
	}
	return s, events, nil
}

// ReadEvents reads a run folder's events.jsonl (empty when absent).
func ReadEvents(dir string) ([]Event, error) {
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseEvents(f)
}

// truncateTorn rewrites events.jsonl to exactly the parsed events, dropping
// a torn final line left by a kill, so appends start on a clean line.
func (s *Store) truncateTorn(events []Event) error {
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	path := filepath.Join(s.dir, "events.jsonl")
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if string(old) == string(buf) {
		return nil
	}
	return atomicfile.Write(path, buf)
}

func (s *Store) openEvents() error {
	f, err := os.OpenFile(filepath.Join(s.dir, "events.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.events = f
	return nil
}

// Append writes one event as a line and fsyncs it. Seq and V are set here.
func (s *Store) Append(e Event) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.V, e.Seq = EventVersion, s.seq
	b, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	if _, err := s.events.Write(append(b, '\n')); err != nil {
		return e, fmt.Errorf("append event: %w", err)
	}
	if err := s.events.Sync(); err != nil {
		return e, fmt.Errorf("sync events: %w", err)
	}
	s.seq++
	return e, nil
}

// WriteFile writes data at a path relative to the run folder, atomically.
func (s *Store) WriteFile(rel string, data []byte) error {
	return atomicfile.Write(filepath.Join(s.dir, rel), data)
}

// WriteJSON writes v as indented JSON, atomically.
func (s *Store) WriteJSON(rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", rel, err)
	}
	return s.WriteFile(rel, append(b, '\n'))
}

// ReadJSON reads a JSON file relative to the run folder.
func (s *Store) ReadJSON(rel string, v any) error {
	b, err := os.ReadFile(filepath.Join(s.dir, rel))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

// Close closes the events file.
func (s *Store) Close() error {
	if s.events == nil {
		return nil
	}
	return s.events.Close()
}

// ReplaceDir atomically swaps a folder: it fills a temp sibling with fill,
// then renames it over dst (removing the old one). Used for best/ and
// adapter/.
func ReplaceDir(dst string, fill func(tmp string) error) error {
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	old := dst + ".old"
	_ = os.RemoveAll(old)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return os.RemoveAll(old)
}
