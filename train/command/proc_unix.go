//go:build unix

package command

import (
	"os/exec"
	"syscall"
	"time"
)

// setGroup makes the command lead its own process group, and makes
// cancellation signal that whole group: SIGTERM first, SIGKILL after grace.
func setGroup(cmd *exec.Cmd, grace time.Duration) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pid := cmd.Process.Pid
		err := syscall.Kill(-pid, syscall.SIGTERM)
		time.AfterFunc(grace, func() { syscall.Kill(-pid, syscall.SIGKILL) })
		return err
	}
}

// killGroup ends whatever is left of the group after the leader exited
// (daemonised workers that still hold the log pipe).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
