package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is a file written in pieces that appears at its path only when
// committed: until then it is a temp file in the same folder, named as
// Write's (".<name>.tmp…"), which a resumed run's sweep removes when a kill
// left it behind.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a file for path.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil { // as Write: readable by others
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit fsyncs the file and renames it into place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already closed", f.path)
	}
	f.done = true
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Sync(); err != nil {
		f.File.Close()
		return fmt.Errorf("sync %s: %w", f.path, err)
	}
	if err := f.File.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("rename %s: %w", f.path, err)
	}
	return syncDir(filepath.Dir(f.path))
}

// Abort removes the temp file; the path keeps what it held. It is a no-op
// after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}
