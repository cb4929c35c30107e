package deploytest

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// nodeClient is a plain client of one Redis node, closed at the end of the test.
func nodeClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
