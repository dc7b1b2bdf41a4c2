// Command healthcheck is the health check of crunch's container images,
// which have no shell, curl or redis-cli to run one:
//
//	healthcheck http://127.0.0.1:8080/readyz   # 2xx answer: healthy
//	healthcheck redis://127.0.0.1:6379         # PING answered by PONG: healthy
//
// It exits 0 when the target is healthy and 1 otherwise, printing why, as
// Docker's HEALTHCHECK and Compose's healthcheck expect. It is a static Go
// binary with no dependencies, so it runs in distroless and scratch images.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	timeout := flag.Duration("timeout", 2*time.Second, "give up after this long")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: healthcheck [-timeout 2s] http://host:port/path | redis://host:port")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := check(ctx, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
}

// check reports whether target answers as a healthy server of its scheme.
func check(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("parse %q: %w", target, err)
	}
	switch u.Scheme {
	case "http", "https":
		return checkHTTP(ctx, target)
	case "redis":
		return checkRedis(ctx, u.Host)
	}
	return fmt.Errorf("%q: scheme must be http, https or redis", target)
}

func checkHTTP(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return nil
}

// checkRedis sends PING in the inline protocol and wants +PONG: a server
// still loading its data answers -LOADING and is not healthy yet.
func checkRedis(ctx context.Context, addr string) error {
	if addr == "" {
		return errors.New("redis:// needs a host:port")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read PING answer: %w", err)
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
