// Command netbench is the bulk-transfer tool of hack/bench-network.sh: a
// static binary bind-mounted into the containers of each engine, so that
// berth and podman are measured with the same program. (Debian's busybox
// nc stops after a few kilobytes, so it cannot do the job.)
//
//	netbench recv ADDR                 serve: read each connection to EOF, then close it
//	netbench send ADDR BYTES [COUNT]   send BYTES zeros COUNT times, printing seconds per transfer
//	netbench wait ADDR                 wait until ADDR accepts connections
//
// A transfer is timed from connect to the receiver's close, which it
// sends only after reading everything: the time covers all the bytes
// arriving, not just leaving the sender's buffers.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: netbench recv ADDR | send ADDR BYTES [COUNT] | wait ADDR")
	}
	switch args[0] {
	case "recv":
		return recv(args[1])
	case "send":
		if len(args) < 3 {
			return fmt.Errorf("send: need ADDR BYTES")
		}
		n, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			return err
		}
		count := 1
		if len(args) > 3 {
			if count, err = strconv.Atoi(args[3]); err != nil {
				return err
			}
		}
		for i := 0; i < count; i++ {
			d, err := send(args[1], n)
			if err != nil {
				return err
			}
			fmt.Printf("%.6f\n", d.Seconds())
		}
		return nil
	case "wait":
		for i := 0; i < 300; i++ {
			if c, err := net.DialTimeout("tcp", args[1], time.Second); err == nil {
				c.Close()
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s does not accept connections", args[1])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func recv(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
		}()
	}
}

func send(addr string, n int64) (time.Duration, error) {
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	for left := n; left > 0; {
		chunk := buf[:min(int64(len(buf)), left)]
		w, err := c.Write(chunk)
		if err != nil {
			return 0, err
		}
		left -= int64(w)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	// The receiver closes once it has read everything.
	if _, err := io.Copy(io.Discard, c); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
