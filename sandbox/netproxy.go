package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
)

// NetProxyArg is the argument that makes the sia binary the sandbox's
// gateway proxy: `sia __netproxy --listen ADDR --to SOCKET -- CMD...`.
const NetProxyArg = "__netproxy"

// ServeNetProxy is the proxy inside a sandbox's network namespace: it
// listens on a loopback address, forwards every connection to a Unix
// socket (sia's bridge to the model gateway), and runs the command after
// "--", exiting with its status. It is the only way out of the namespace.
// args are what follows NetProxyArg.
func ServeNetProxy(args []string) int {
	listen, to, cmdArgs, err := parseProxyArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sia netproxy: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sia netproxy: listen %s: %v\n", listen, err)
		return 1
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go forward(c, func() (net.Conn, error) { return net.Dial("unix", to) })
		}
	}()
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(syscall.SIGPIPE)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "sia netproxy: %v\n", err)
		return 127
	}
	return 0
}

func parseProxyArgs(args []string) (listen, to string, cmd []string, err error) {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--listen", "--to":
			if i+1 >= len(args) {
				return "", "", nil, fmt.Errorf("%s needs a value", args[i])
			}
			if args[i] == "--listen" {
				listen = args[i+1]
			} else {
				to = args[i+1]
			}
			i++
		case "--":
			cmd = args[i+1:]
			i = len(args)
		default:
			return "", "", nil, fmt.Errorf("unknown argument %q", args[i])
		}
	}
	if listen == "" || to == "" || len(cmd) == 0 {
		return "", "", nil, errors.New("usage: __netproxy --listen HOST:PORT --to SOCKET -- CMD [ARGS...]")
	}
	return listen, to, cmd, nil
}

// forward copies bytes both ways between c and a connection dial opens,
// until either side closes.
func forward(c net.Conn, dial func() (net.Conn, error)) {
	defer c.Close()
	up, err := dial()
	if err != nil {
		return
	}
	defer up.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
}

// Bridge serves a Unix socket on the host whose connections go to a TCP
// address (the gateway): the other end of a sandbox's GatewayProxy. It
// runs until ctx ends; the socket file is world-connectable (0666) so
// the sandbox's unprivileged user can reach it, and only the sandbox it
// is mounted into can see it.
func Bridge(ctx context.Context, socket, target string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", socket)
	if err != nil {
		return err
	}
	if err := os.Chmod(socket, 0o666); err != nil {
		ln.Close()
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() {
		var d net.Dialer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go forward(c, func() (net.Conn, error) { return d.DialContext(ctx, "tcp", target) })
		}
	}()
	return nil
}
