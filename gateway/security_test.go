package gateway_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const testAPIKey = "client-key-0123456789abcdef"

func do(t *testing.T, method, url string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: []string{"another-key-0000000000", "console " + testAPIKey + " invitations:read"}})
	e.seed()
	const q = `{"query":"{ invitations { totalCount } }"}`
	const (
		missing = `{"errors":[{"message":"authentication required: send Authorization: Bearer or X-API-Key","extensions":{"code":"UNAUTHENTICATED"}}]}`
		unknown = `{"errors":[{"message":"invalid credential: unknown API key","extensions":{"code":"UNAUTHENTICATED"}}]}`
	)
	plain := map[string]string{"Content-Type": "application/json"}
	with := func(k, v string) map[string]string {
		return map[string]string{"Content-Type": "application/json", k: v}
	}
	tests := []struct {
		name          string
		header        map[string]string
		status        int
		body, wwwAuth string
	}{
		{"no key", plain, 401, missing, `Bearer realm="invitegw"`},
		{"wrong key", with("Authorization", "Bearer nope"), 401, unknown,
			`Bearer realm="invitegw", error="invalid_token", error_description="unknown API key"`},
		{"key as a prefix", with("X-API-Key", testAPIKey[:10]), 401, unknown,
			`Bearer realm="invitegw", error="invalid_token", error_description="unknown API key"`},
		{"bearer key", with("Authorization", "Bearer "+testAPIKey), 200, `{"data":{"invitations":{"totalCount":8}}}`, ""},
		{"x-api-key", with("X-API-Key", testAPIKey), 200, `{"data":{"invitations":{"totalCount":8}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.upstreamCalls()
			resp, body := do(t, http.MethodPost, e.gw.URL+"/graphql", tt.header, q)
			if resp.StatusCode != tt.status || body != tt.body || resp.Header.Get("WWW-Authenticate") != tt.wwwAuth {
				t.Fatalf("got %d %s (WWW-Authenticate %q)\nwant %d %s (%q)", resp.StatusCode, body,
					resp.Header.Get("WWW-Authenticate"), tt.status, tt.body, tt.wwwAuth)
			}
			if tt.status == 401 && e.upstreamCalls() != before {
				t.Fatal("an unauthenticated request reached an upstream")
			}
		})
	}
	if resp, _ := do(t, http.MethodGet, e.gw.URL+"/healthz", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("/healthz needs no key, got %d", resp.StatusCode)
	}
	if strings.Contains(e.log.String(), testAPIKey) {
		t.Fatal("an API key reached the log")
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, envOptions{corsOrigins: []string{"https://app.example.com"}})
	preflight := func(origin string) *http.Response {
		resp, _ := do(t, http.MethodOptions, e.gw.URL+"/graphql", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		}, "")
		return resp
	}
	if resp := preflight("https://app.example.com"); resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := preflight("https://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed origin got CORS headers: %v", resp.Header)
	}
	// No origins configured: no CORS headers for anyone.
	plain := newEnv(t, envOptions{})
	resp, _ := do(t, http.MethodPost, plain.gw.URL+"/graphql", map[string]string{"Origin": "https://app.example.com", "Content-Type": "application/json"},
		`{"query":"{ __typename }"}`)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS headers without configured origins: %v", resp.Header)
	}
}

// TestCSRF: a browser can send text/plain, form and multipart POSTs cross-site without a
// preflight. None of them may run an operation, and no GET may run a mutation.
func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	const mutation = `mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "2027-01-01T00:00:00Z"}) { invitation { id } } }`
	tests := []struct{ name, method, contentType, body, query string }{
		{"text/plain POST", http.MethodPost, "text/plain", `{"query":` + quoteJSON(mutation) + `}`, ""},
		{"form POST", http.MethodPost, "application/x-www-form-urlencoded", "query=" + url.QueryEscape(mutation), ""},
		{"multipart POST", http.MethodPost, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n" + mutation + "\r\n--x--\r\n", ""},
		{"GET mutation", http.MethodGet, "", "", "?query=" + url.QueryEscape(mutation)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, e.gw.URL+"/graphql"+tt.query, map[string]string{"Content-Type": tt.contentType}, tt.body)
			if resp.StatusCode < 400 && !strings.Contains(body, `"errors"`) {
				t.Fatalf("accepted: %d %s", resp.StatusCode, body)
			}
		})
	}
	if n := e.rp.Calls("UpdateUserInvite"); n != 0 {
		t.Fatalf("a cross-site request ran the mutation (%d PATCH calls)", n)
	}
}

func quoteJSON(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
