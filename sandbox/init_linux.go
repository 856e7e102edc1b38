package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the started process in its own group and has the
// kernel kill it if sia dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// sandboxInit is the sandbox's PID-namespace init, held by a pidfd so it
// can be killed and waited for without racing pid reuse. Killing it ends
// every process in the namespace (setsid and double-forked orphans
// included) before the pidfd reports its exit.
type sandboxInit struct {
	fd int // -1 when unknown
}

// readInit reads bwrap's --info-fd report and opens a pidfd on the init
// it names. It returns a handle whose methods are no-ops when anything
// fails (the process-group kill still applies).
func readInit(info io.Reader, outerPid int) *sandboxInit {
	in := &sandboxInit{fd: -1}
	var rep struct {
		ChildPid int `json:"child-pid"`
	}
	if err := json.NewDecoder(info).Decode(&rep); err != nil || rep.ChildPid <= 0 {
		return in
	}
	fd, err := unix.PidfdOpen(rep.ChildPid, 0)
	if err != nil {
		return in
	}
	// The pid could have been reused between bwrap's report and the open:
	// the init's parent is the bwrap we started, or it has gone.
	if ppid, err := parentOf(rep.ChildPid); err != nil || ppid != outerPid {
		unix.Close(fd)
		return in
	}
	in.fd = fd
	return in
}

func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad stat %q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("bad stat %q", s)
	}
	return strconv.Atoi(f[1])
}

// kill sends SIGKILL to the init (and so to the whole namespace).
func (in *sandboxInit) kill() {
	if in.fd >= 0 {
		_ = unix.PidfdSendSignal(in.fd, unix.SIGKILL, nil, 0)
	}
}

// killAndWait kills the namespace and waits until its init has exited,
// which the kernel allows only once every process in it is gone.
func (in *sandboxInit) killAndWait(limit time.Duration) error {
	if in.fd < 0 {
		return nil
	}
	defer func() { unix.Close(in.fd); in.fd = -1 }()
	in.kill()
	deadline := time.Now().Add(limit)
	for {
		fds := []unix.PollFd{{Fd: int32(in.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if n > 0 || (err != nil && err != unix.EINTR) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: its processes did not end within %s of SIGKILL", limit)
		}
	}
}
