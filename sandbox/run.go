package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Sandbox starts commands under one Mode. Build it with New; it holds no
// per-command state and is safe for concurrent use.
type Sandbox struct {
	mode  Mode
	bwrap string
	h     host
}

// Mode reports how this sandbox isolates.
func (s *Sandbox) Mode() Mode { return s.mode }

// ErrUnavailable wraps every reason the bubblewrap sandbox cannot run here.
var ErrUnavailable = errors.New("the sandbox cannot run here")

// New returns a sandbox of the given mode after checking that it works
// on this machine: for ModeBwrap it finds bwrap (and setpriv when sia
// runs as root) and starts a trivial sandboxed command. The error says
// what is missing and wraps ErrUnavailable.
func New(ctx context.Context, mode Mode) (*Sandbox, error) {
	s := &Sandbox{mode: mode, h: probeHost()}
	var err error
	if s.h.tools.prlimit, err = exec.LookPath("prlimit"); err != nil {
		return nil, fmt.Errorf("%w: prlimit (util-linux) is not installed", ErrUnavailable)
	}
	if mode == ModeNone {
		return s, nil
	}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w: bubblewrap needs Linux (this is %s)", ErrUnavailable, runtime.GOOS)
	}
	if s.bwrap, err = exec.LookPath("bwrap"); err != nil {
		return nil, fmt.Errorf("%w: bubblewrap (bwrap) is not installed (apt-get install bubblewrap)", ErrUnavailable)
	}
	if s.h.root {
		if s.h.tools.setpriv, err = exec.LookPath("setpriv"); err != nil {
			return nil, fmt.Errorf("%w: setpriv (util-linux) is not installed", ErrUnavailable)
		}
	}
	dir, err := os.MkdirTemp("", "sia-sandbox-probe-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		return nil, err
	}
	_, err = s.Run(ctx, Policy{Argv: []string{"/bin/sh", "-c", "echo ok > probe"}, Dir: work,
		Mounts: []Mount{{Path: work, Writable: true}}, Timeout: 30 * time.Second}, log)
	if err == nil {
		var b []byte
		if b, err = ReadOutput(work, "probe", 16); err == nil && string(b) != "ok\n" {
			err = fmt.Errorf("probe wrote %q", b)
		}
	}
	if err != nil {
		msg, _ := os.ReadFile(log.Name())
		return nil, fmt.Errorf("%w: bubblewrap fails to start a sandbox (%v; %s) — user namespaces may be disabled", ErrUnavailable, err, firstLine(msg))
	}
	return s, nil
}

func probeHost() host {
	h := host{root: os.Geteuid() == 0, symlinks: map[string]string{}}
	h.exists = func(p string) bool { _, err := os.Lstat(p); return err == nil }
	for _, d := range runtimeDirs {
		if st, err := os.Lstat(d); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			if t, err := os.Readlink(d); err == nil {
				h.symlinks[d] = t
			}
		}
	}
	return h
}

// Result describes a finished command.
type Result struct {
	ExitCode int // -1 when it was killed
	Duration time.Duration
}

// Errors a run can end with, besides a non-zero exit (*exec.ExitError).
var (
	ErrTimeout   = errors.New("killed at its timeout")
	ErrDiskLimit = errors.New("killed: its writable folders grew past the disk limit")
)

// diskPoll is how often the writable mounts are measured.
const diskPoll = 100 * time.Millisecond

// Run runs p to completion, to its timeout, or until ctx ends, with
// stdout and stderr going to out (a file sia opened, never one the
// process can replace). Whatever happens, nothing it started is running
// when Run returns. The error wraps ErrTimeout, ErrDiskLimit, ctx's error
// or an *exec.ExitError.
func (s *Sandbox) Run(ctx context.Context, p Policy, out *os.File) (Result, error) {
	if err := p.validate(); err != nil {
		return Result{ExitCode: -1}, err
	}
	l := p.Limits.withDefaults()
	p.Limits = l
	if s.h.root && s.mode == ModeBwrap {
		// The sandbox user must own what it may write.
		for _, m := range p.Mounts {
			if m.Writable {
				if err := chownTree(m.Path, Nobody, Nobody); err != nil {
					return Result{ExitCode: -1}, fmt.Errorf("sandbox: give %s to the sandbox user: %w", m.Path, err)
				}
			}
		}
	}
	var argv []string
	var infoR, infoW *os.File
	if s.mode == ModeBwrap {
		var err error
		if infoR, infoW, err = os.Pipe(); err != nil {
			return Result{ExitCode: -1}, err
		}
		defer infoR.Close()
		// fd 3 in bwrap (the first of ExtraFiles): where it reports the
		// pid of the sandbox's init.
		argv = append([]string{s.bwrap, "--info-fd", "3"}, bwrapArgs(s.h, p)...)
	} else {
		argv = append(prlimitArgs(s.h.tools.prlimit, l), p.Argv...)
	}
	runCtx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = nil
	if s.mode == ModeNone {
		cmd.Dir = p.Dir
		cmd.Env = envList(p.Env)
	} else {
		cmd.Env = []string{} // bwrap's own environment; the command's is set by --setenv
	}
	if infoW != nil {
		cmd.ExtraFiles = []*os.File{infoW}
	}
	// Own process group, killed as a whole; the kernel kills bwrap if sia
	// dies, and bwrap's --die-with-parent takes the sandbox with it.
	cmd.SysProcAttr = sysProcAttr()

	start := time.Now()
	runtime.LockOSThread() // Pdeathsig is tied to the thread that forks
	err := cmd.Start()
	runtime.UnlockOSThread()
	if infoW != nil {
		infoW.Close()
	}
	if err != nil {
		return Result{ExitCode: -1}, fmt.Errorf("sandbox: start %s: %w", argv[0], err)
	}
	init := &sandboxInit{}
	if infoR != nil {
		init = readInit(infoR, cmd.Process.Pid)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var writable []string
	for _, m := range p.Mounts {
		if m.Writable {
			writable = append(writable, m.Path)
		}
	}
	tick := time.NewTicker(diskPoll)
	defer tick.Stop()
	var why error
	var waitErr error
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case <-runCtx.Done():
			why = ErrTimeout
			if ctx.Err() != nil {
				why = ctx.Err()
			}
			init.kill()
			killGroup(cmd.Process.Pid)
		case <-tick.C:
			if len(writable) > 0 && treeBytes(writable) > l.Disk {
				why = ErrDiskLimit
				init.kill()
				killGroup(cmd.Process.Pid)
			}
		}
	}
	// bwrap returns when the command exits, but its init lives on while
	// orphans the command left (setsid, double fork) do: end them all and
	// wait until they are gone. Without bubblewrap, the group is what we
	// can reach.
	reapErr := init.killAndWait(10 * time.Second)
	killGroup(cmd.Process.Pid)
	res := Result{ExitCode: cmd.ProcessState.ExitCode(), Duration: time.Since(start)}
	switch {
	case errors.Is(why, ErrTimeout):
		return res, fmt.Errorf("%w (%s)", ErrTimeout, p.Timeout)
	case errors.Is(why, ErrDiskLimit):
		return res, fmt.Errorf("%w (%d MiB)", ErrDiskLimit, l.Disk>>20)
	case why != nil:
		return res, why
	case waitErr != nil:
		return res, waitErr
	case reapErr != nil:
		return res, reapErr
	}
	if len(writable) > 0 && treeBytes(writable) > l.Disk {
		return res, fmt.Errorf("%w (%d MiB)", ErrDiskLimit, l.Disk>>20)
	}
	return res, nil
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// treeBytes sums the sizes of the files under dirs, without following
// links.
func treeBytes(dirs []string) int64 {
	var n int64
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(_ string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				n += info.Size()
			}
			return nil
		})
	}
	return n
}

// chownTree gives dir and everything in it to uid:gid, without following
// links.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
