// Package deploytest tests invitegw as it is deployed: the built binary run as several
// processes behind a real HAProxy, sharing a real Redis Cluster or Sentinel-managed primary,
// in front of the project's fake upstreams served on real sockets by the test process. It
// covers what in-process tests cannot: load balancing, Redis failover and rolling restarts.
//
// The package has tests only. They need redis-server and haproxy: without them the tests are
// skipped, except in CI (CI=true), where that is a failure. They build the gateway once per
// run with the go command on PATH (honouring GOFLAGS).
package deploytest
