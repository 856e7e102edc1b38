package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned when another process works in the run folder.
var ErrLocked = errors.New("another sia process is working in this run folder")

// holder is what the lock file says about the process holding it.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Args    []string  `json:"args,omitempty"`
}

// lock takes the run folder's lock without waiting. The kernel drops it
// when the process ends, however it ends, so a killed run never leaves a
// stale lock behind.
func lock(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			var h holder
			if b, rerr := os.ReadFile(path); rerr == nil && json.Unmarshal(b, &h) == nil && h.PID > 0 {
				return nil, fmt.Errorf("%s: %w (pid %d on %s, since %s); wait for it or stop it",
					dir, ErrLocked, h.PID, h.Host, h.Started.Format(time.RFC3339))
			}
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second), Args: os.Args})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return f, nil
}
