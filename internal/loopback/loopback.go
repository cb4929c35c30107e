// Package loopback finds free TCP ports on 127.0.0.1 for the processes the tests, the bench
// and the soak start (Redis servers, gateways, HAProxy).
package loopback

import (
	"fmt"
	"net"
)

// FreePort returns a port on 127.0.0.1 that was free a moment ago. Something else can take it
// before the caller's process binds it; callers retry when that process fails to bind. It is
// never 6379, where the machine may run a Redis of its own.
func FreePort() (int, error) {
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("loopback: free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if port != 6379 {
			return port, nil
		}
	}
	return 0, fmt.Errorf("loopback: no free port")
}
