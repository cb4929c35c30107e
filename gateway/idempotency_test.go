package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/invitegw/invitegw/idempotency"
)

// TestIdempotentMutation: a repeat of a mutation with the same Idempotency-Key and body, even
// through another replica on the same Redis, answers the first response without an upstream
// call; the key with another body is refused.
func TestIdempotentMutation(t *testing.T) {
	_, srv := newRedisStore(t)
	store := func() idempotency.Store { return idempotency.NewRedis(srv.Client()) }
	e := newEnv(t, envOptions{apiKeys: scopedKeys, idempotency: store()})
	e.seed()
	second, _ := e.newGateway(t, envOptions{apiKeys: scopedKeys, idempotency: store()})
	send := func(url, key, expires string) (*http.Response, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": `mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "` +
			expires + `"}) { invitation { id expiresAt } } }`})
		return do(t, http.MethodPost, url+"/graphql", map[string]string{"Content-Type": "application/json",
			"X-API-Key": writerKey, "Idempotency-Key": key}, string(body))
	}
	const want = `{"data":{"updateInvitation":{"invitation":{"id":"redpanda:rp-1","expiresAt":"2027-01-01T00:00:00Z"}}}}`
	resp, first := send(e.gw.URL, "op-7f3a", "2027-01-01T00:00:00Z")
	if resp.StatusCode != 200 || first != want || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s", resp.StatusCode, first)
	}
	resp, again := send(second.URL, "op-7f3a", "2027-01-01T00:00:00Z")
	if resp.StatusCode != 200 || again != first || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat through the other replica: %d %s %v", resp.StatusCode, again, resp.Header)
	}
	if n := e.rp.Calls("UpdateUserInvite"); n != 1 {
		t.Fatalf("%d PATCH calls, want 1", n)
	}
	resp, reused := send(e.gw.URL, "op-7f3a", "2027-02-01T00:00:00Z")
	var r response
	_ = json.Unmarshal([]byte(reused), &r)
	if resp.StatusCode != http.StatusUnprocessableEntity || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("key reused with another body: %d %s", resp.StatusCode, reused)
	}
	if n := e.rp.Calls("UpdateUserInvite"); n != 1 {
		t.Fatalf("%d PATCH calls after the reuse, want 1", n)
	}
}
