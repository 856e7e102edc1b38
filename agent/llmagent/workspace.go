package llmagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Read-only mounts inside the agent's view of files.
const (
	mountPublic = "public"
	mountDocs   = "docs"
)

// maxFileBytes bounds what one write_file may store.
const maxFileBytes = 1 << 20

// workspace is the agent's view of files: the generation folder at the root
// (read-write, through os.Root so nothing outside it is reachable), and the
// read-only mounts public/ and docs/. Paths are slash-separated and
// relative; absolute paths and paths leaving the root are refused.
type workspace struct {
	root   *os.Root
	mounts map[string]fs.FS // nil value: the mount is absent
}

func openWorkspace(dir string, public, docs fs.FS) (*workspace, error) {
	if dir == "" {
		return nil, errors.New("generation folder is not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create generation folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open generation folder: %w", err)
	}
	return &workspace{root: root, mounts: map[string]fs.FS{mountPublic: public, mountDocs: docs}}, nil
}

func (w *workspace) Close() error { return w.root.Close() }

// location is a resolved path: either in the generation folder (fsys nil)
// or in a read-only mount.
type location struct {
	mount string // "" for the generation folder
	fsys  fs.FS
	rel   string // path inside the folder or mount; "." for its root
}

// resolve maps an agent path to a location.
func (w *workspace) resolve(p string) (location, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		p = "."
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || (len(p) > 1 && p[1] == ':') {
		return location{}, fmt.Errorf("path %q is absolute; use a path relative to the generation folder (e.g. harness.star, docs/harness.md)", p)
	}
	if strings.Contains(p, `\`) {
		return location{}, fmt.Errorf("path %q: use / as the separator", p)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return location{}, fmt.Errorf("path %q leaves the workspace", p)
	}
	first, rest, _ := strings.Cut(clean, "/")
	fsys, isMount := w.mounts[first]
	if !isMount {
		return location{rel: clean}, nil
	}
	if fsys == nil {
		return location{}, fmt.Errorf("path %q: this task has no %s/ folder", p, first)
	}
	if rest == "" {
		rest = "."
	}
	if !fs.ValidPath(rest) {
		return location{}, fmt.Errorf("path %q is not valid", p)
	}
	if err := noSymlinks(fsys, rest); err != nil {
		return location{}, fmt.Errorf("path %q: %w", p, err)
	}
	return location{mount: first, fsys: fsys, rel: rest}, nil
}

// noSymlinks refuses a path any of whose components is a symlink, so a
// mount backed by os.DirFS cannot be left through a link.
func noSymlinks(fsys fs.FS, rel string) error {
	if rel == "." {
		return nil
	}
	if _, ok := fsys.(fs.ReadLinkFS); !ok {
		return nil // cannot hold links (embed.FS) or resolves them itself
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, err := fs.Lstat(fsys, prefix)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // Open reports it
			}
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return errors.New("symbolic links are not followed in read-only folders")
		}
	}
	return nil
}

func (w *workspace) display(loc location) string {
	if loc.mount == "" {
		return loc.rel
	}
	if loc.rel == "." {
		return loc.mount
	}
	return loc.mount + "/" + loc.rel
}

// ReadFile reads a file from anywhere in the view.
func (w *workspace) ReadFile(p string) ([]byte, error) {
	loc, err := w.resolve(p)
	if err != nil {
		return nil, err
	}
	if loc.fsys != nil {
		b, err := fs.ReadFile(loc.fsys, loc.rel)
		if err != nil {
			return nil, cleanErr(p, err)
		}
		return b, nil
	}
	b, err := w.root.ReadFile(loc.rel)
	if err != nil {
		return nil, cleanErr(p, err)
	}
	return b, nil
}

// WriteFile writes a file in the generation folder, creating parents.
func (w *workspace) WriteFile(p string, data []byte) error {
	loc, err := w.resolve(p)
	if err != nil {
		return err
	}
	if loc.mount != "" {
		return fmt.Errorf("path %q is read-only (only the generation folder is writable)", p)
	}
	if loc.rel == "." {
		return fmt.Errorf("path %q is a folder", p)
	}
	if len(data) > maxFileBytes {
		return fmt.Errorf("content is %d bytes; the limit is %d", len(data), maxFileBytes)
	}
	if dir := path.Dir(loc.rel); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return cleanErr(p, err)
		}
	}
	if err := w.root.WriteFile(loc.rel, data, 0o644); err != nil {
		return cleanErr(p, err)
	}
	return nil
}

// Remove deletes a file in the generation folder; a missing file is fine.
func (w *workspace) Remove(p string) error {
	loc, err := w.resolve(p)
	if err != nil {
		return err
	}
	if loc.mount != "" {
		return fmt.Errorf("path %q is read-only", p)
	}
	if err := w.root.Remove(loc.rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cleanErr(p, err)
	}
	return nil
}

// entry is one line of a folder listing.
type entry struct {
	Name string
	Dir  bool
	Size int64
}

// maxListEntries bounds one listing.
const maxListEntries = 500

// ListDir lists a folder; the root also shows the mounts that exist.
func (w *workspace) ListDir(p string) ([]entry, int, error) {
	loc, err := w.resolve(p)
	if err != nil {
		return nil, 0, err
	}
	var des []fs.DirEntry
	if loc.fsys != nil {
		des, err = fs.ReadDir(loc.fsys, loc.rel)
	} else {
		var f *os.File
		f, err = w.root.Open(loc.rel)
		if err == nil {
			des, err = f.ReadDir(-1)
			f.Close()
		}
	}
	if err != nil {
		return nil, 0, cleanErr(p, err)
	}
	var out []entry
	if loc.mount == "" && loc.rel == "." {
		for _, m := range []string{mountDocs, mountPublic} {
			if w.mounts[m] != nil {
				out = append(out, entry{Name: m, Dir: true})
			}
		}
	}
	for _, de := range des {
		if loc.mount == "" && loc.rel == "." {
			if _, reserved := w.mounts[de.Name()]; reserved {
				continue // shadowed by the mount
			}
		}
		e := entry{Name: de.Name(), Dir: de.IsDir()}
		if fi, err := de.Info(); err == nil && !de.IsDir() {
			e.Size = fi.Size()
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	total := len(out)
	if len(out) > maxListEntries {
		out = out[:maxListEntries]
	}
	return out, total, nil
}

// cleanErr rewords a file error with the agent's path and without the
// host path, which the agent has no use for.
func cleanErr(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return notExistError{path: p}
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", p)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s %v", p, pe.Op, pe.Err)
	}
	return fmt.Errorf("%s: %v", p, err)
}

// notExistError keeps errors.Is(err, fs.ErrNotExist) true after cleanErr.
type notExistError struct{ path string }

func (e notExistError) Error() string        { return e.path + ": no such file or folder" }
func (e notExistError) Is(target error) bool { return target == fs.ErrNotExist }
