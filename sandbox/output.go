package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular is returned for an output that is a link, a folder, a
// device, a named pipe or a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned for an output larger than the cap.
var ErrTooLarge = errors.New("larger than the cap")

// ReadOutput reads the file name inside dir — a folder an untrusted
// process could write — as data: the path may not leave dir, no symbolic
// link is followed (not in the middle, not at the end), the opened file
// must be a regular file (a named pipe or a device fails at once instead
// of blocking or streaming forever), and at most max bytes are read.
func ReadOutput(dir, name string, max int64) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// Lstat first so a link is named as such; O_NOFOLLOW then makes the
	// open itself refuse a link swapped in since.
	if st, err := root.Lstat(name); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, st.Mode().Type())
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s: %w (a symbolic link)", name, ErrNotRegular)
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, st.Mode().Type())
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, cap %d)", name, ErrTooLarge, st.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (cap %d bytes)", name, ErrTooLarge, max)
	}
	return b, nil
}

// ExistsOutput reports whether name exists in dir as anything (a link
// included), without following it: the caller then reads it with
// ReadOutput, which says why it refuses.
func ExistsOutput(dir, name string) bool {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false
	}
	defer root.Close()
	_, err = root.Lstat(name)
	return err == nil
}
