//go:build !unix

package command

import (
	"os/exec"
	"time"
)

// setGroup: without process groups only the direct child is killed.
func setGroup(cmd *exec.Cmd, grace time.Duration) {}

func killGroup(cmd *exec.Cmd) {}
