package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeRedis answers every line it reads with reply, as a Redis server
// answers PING.
func fakeRedis(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
					_, _ = conn.Write([]byte(reply))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name, target string
		healthy      bool
	}{
		{"http 200", ok.URL + "/readyz", true},
		{"http 503", down.URL + "/readyz", false},
		{"http refused", "http://" + closedAddr + "/readyz", false},
		{"redis PONG", "redis://" + fakeRedis(t, "+PONG\r\n"), true},
		{"redis loading", "redis://" + fakeRedis(t, "-LOADING Redis is loading the dataset in memory\r\n"), false},
		{"redis refused", "redis://" + closedAddr, false},
		{"redis without address", "redis://", false},
		{"unknown scheme", "tcp://" + closedAddr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			err := check(ctx, tt.target)
			if healthy := err == nil; healthy != tt.healthy {
				t.Errorf("check(%s) = %v, want healthy %v", tt.target, err, tt.healthy)
			}
		})
	}
}
