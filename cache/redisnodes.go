package cache

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterStateRefresh is how often a Cluster client re-reads the slot map when nothing
// prompts it (go-redis's default is 60 s). Failures prompt it at once (reloadOnFailure).
const clusterStateRefresh = 10 * time.Second

// reloadOnFailure re-reads a Cluster's slot map as soon as a node fails. go-redis reloads it
// on a MOVED answer, but not when a node stops answering: until its next periodic reload (60 s
// by default) it keeps sending that node's slots to the dead master, though a replica took
// them over within seconds. It is added to every node's client (ClusterClient.OnNewNode);
// ReloadState coalesces concurrent calls and waits 200 ms between reloads.
type reloadOnFailure struct{ cluster *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		h.check(ctx, err)
		return conn, err
	}
}

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		for _, c := range cmds {
			if h.check(ctx, c.Err()) {
				break
			}
		}
		return err
	}
}

// check asks for a reload when err says the node, or the slot map, is wrong.
func (h reloadOnFailure) check(ctx context.Context, err error) bool {
	if !nodeFailed(err) {
		return false
	}
	h.cluster.ReloadState(ctx)
	return true
}

// nodeFailed reports a failure of the node itself (not of a command, a missing key or the
// caller giving up): a broken or refused connection, a timeout, or the node saying it no
// longer serves the slot as it did (CLUSTERDOWN, TRYAGAIN, MOVED, READONLY, LOADING).
func nodeFailed(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, prefix := range []string{"CLUSTERDOWN", "TRYAGAIN", "MOVED", "READONLY", "LOADING", "MASTERDOWN"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
