//go:build !linux

package sandbox

import (
	"io"
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// sandboxInit is a no-op where bubblewrap cannot run.
type sandboxInit struct{}

func readInit(io.Reader, int) *sandboxInit           { return &sandboxInit{} }
func (*sandboxInit) kill()                           {}
func (*sandboxInit) killAndWait(time.Duration) error { return nil }
