package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sia-agent/sia/internal/atomicfile"
)

// ErrExists is returned by Create when the run folder already exists.
var ErrExists = errors.New("run folder exists (pass --resume to continue it, or choose another --run-id)")

// Store is an open run folder. Append is safe for concurrent use; the loop
// is its only writer.
type Store struct {
	dir    string
	lock   *os.File // held while the store is open
	mu     sync.Mutex
	events *os.File
	seq    int
	size   int64 // events.jsonl's length after our last append
}

// Dir returns the run folder.
func (s *Store) Dir() string { return s.dir }

// GenDir returns gen_<n>/ (not created).
func (s *Store) GenDir(n int) string { return filepath.Join(s.dir, GenDirName(n)) }

// BestDir returns best/.
func (s *Store) BestDir() string { return filepath.Join(s.dir, BestDir) }

// Path joins parts under the run folder.
func (s *Store) Path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// Create makes a new run folder and writes run.json. It refuses an existing
// non-empty folder, and a folder another process is creating.
func Create(dir string, config any) (_ *Store, err error) {
	if nonEmpty(dir) {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l, err := lock(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, lock: l}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if nonEmpty(dir) { // another process got here first and finished
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	if err := s.WriteJSON(ConfigFile, config); err != nil {
		return nil, err
	}
	if err := s.openEvents(); err != nil {
		return nil, err
	}
	return s, nil
}

// nonEmpty reports whether dir holds anything besides a lock file.
func nonEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != LockFile {
			return true
		}
	}
	return false
}

// Open opens an existing run folder for resuming and returns its events.
// It fails at once, naming the holder, while another process works in it.
func Open(dir string) (_ *Store, _ []Event, err error) {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
		return nil, nil, fmt.Errorf("%s is not a run folder: %w", dir, err)
	}
	l, err := lock(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &Store{dir: dir, lock: l}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	events, err := ReadEvents(dir)
	if err != nil {
		return nil, nil, err
	}
	if _, err := Replay(events, true); err != nil {
		return nil, nil, fmt.Errorf("%s: events.jsonl: %w", dir, err)
	}
	s.seq = len(events)
	if err := sweepTemps(dir); err != nil {
		return nil, nil, err
	}
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
	f, err := os.Open(filepath.Join(dir, EventsFile))
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
	path := filepath.Join(s.dir, EventsFile)
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
	f, err := os.OpenFile(filepath.Join(s.dir, EventsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.events, s.size = f, st.Size()
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
	// The log is ours alone (the lock), but check before writing rather
	// than let a reader find the damage: a file that changed since our
	// last append would take this event out of sequence.
	if st, err := s.events.Stat(); err != nil {
		return e, err
	} else if st.Size() != s.size {
		return e, fmt.Errorf("append event %d: events.jsonl changed under this process (%d bytes, expected %d); not writing out of sequence", e.Seq, st.Size(), s.size)
	}
	line := append(b, '\n')
	if _, err := s.events.Write(line); err != nil {
		return e, fmt.Errorf("append event: %w", err)
	}
	if err := s.events.Sync(); err != nil {
		return e, fmt.Errorf("sync events: %w", err)
	}
	s.seq++
	s.size += int64(len(line))
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

// ReadConfig reads the config snapshot (ConfigFile) into v.
func (s *Store) ReadConfig(v any) error { return s.ReadJSON(ConfigFile, v) }

// WriteConfig rewrites the config snapshot (ConfigFile), atomically: an
// extended run records its new length there.
func (s *Store) WriteConfig(v any) error { return s.WriteJSON(ConfigFile, v) }

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

// Close closes the events file and releases the run folder.
func (s *Store) Close() error {
	var err error
	if s.events != nil {
		err = s.events.Close()
		s.events = nil
	}
	if s.lock != nil {
		s.lock.Close() // closing the descriptor releases the flock
		s.lock = nil
	}
	return err
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
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return err
	}
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

// Truncate keeps only the first n events (a resume that found an earlier
// step's files gone redoes from there). It rewrites events.jsonl
// atomically and appends continue after event n-1.
func (s *Store) Truncate(events []Event, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 0 || n > len(events) {
		return fmt.Errorf("truncate to %d of %d events", n, len(events))
	}
	if s.events != nil {
		s.events.Close()
		s.events = nil
	}
	s.seq = n
	if err := s.truncateTorn(events[:n]); err != nil {
		return err
	}
	return s.openEvents()
}

// sweepTemps removes what a killed process left half-done: temp files of
// atomic writes (.name.tmp123), temp and old folders of ReplaceDir, and
// the scratch folder.
func sweepTemps(dir string) error {
	if err := os.RemoveAll(filepath.Join(dir, TempDir)); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		name := d.Name()
		if isTemp(name) {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
}

// isTemp matches the names atomicfile.Write and ReplaceDir use for work in
// progress: ".<name>.tmp<digits>" and "<name>.old".
func isTemp(name string) bool {
	if strings.HasSuffix(name, ".old") {
		return true
	}
	if !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(name, ".tmp")
	if i < 1 {
		return false
	}
	for _, c := range name[i+4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
