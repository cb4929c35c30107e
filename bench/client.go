package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// benchQuery is the request every server is measured with (issue 6, "The benchmark").
const benchQuery = `{"query":"{ invitations(first: 50) { edges { node { id email status createdAt organization { name } roleBindings { roleName } } } } }"}`

// benchEdges is how many invitations benchQuery asks for.
const benchEdges = 50

// idsQuery lists the IDs the _entities query asks for.
const idsQuery = `{"query":"{ invitations(first: 100) { edges { node { id } } } }"}`

// entitiesQuery resolves 100 Invitation representations, as a federation router would.
const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Invitation { id email status organization { name } roleBindings { roleName } } } }`

// newHTTPClient is a client with timeouts and its own connection pool.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}}
}

// post sends one GraphQL request and returns the status and body.
func post(ctx context.Context, hc *http.Client, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// timedPost sends the benchmark query once and times it.
func (b *bench) timedPost(ctx context.Context, url string) (time.Duration, int, []byte, error) {
	t0 := time.Now()
	status, body, err := post(ctx, b.hc, url, []byte(benchQuery))
	return time.Since(t0), status, body, err
}

// checkAnswer is the check of benchQuery's answer that the byte-for-byte comparisons rest on:
// 200, no errors, 50 invitations with every field asked for.
func checkAnswer(status int, body []byte) error {
	if status != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %.300s", status, body)
	}
	var r struct {
		Data struct {
			Invitations struct {
				Edges []struct {
					Node struct {
						ID, Email, Status, CreatedAt string
						Organization                 *struct{ Name string }
						RoleBindings                 []struct{ RoleName string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("answer is not JSON: %w", err)
	}
	edges := r.Data.Invitations.Edges
	if len(edges) != benchEdges {
		return fmt.Errorf("%d invitations, want %d", len(edges), benchEdges)
	}
	for i, e := range edges {
		n := e.Node
		if n.ID == "" || n.Email == "" || n.Status == "" || n.CreatedAt == "" || n.Organization == nil || n.Organization.Name == "" ||
			len(n.RoleBindings) == 0 || n.RoleBindings[0].RoleName == "" {
			return fmt.Errorf("invitation %d is incomplete: %+v", i, n)
		}
	}
	return nil
}

// invitationIDs reads the IDs from idsQuery's answer.
func invitationIDs(status int, body []byte) ([]string, error) {
	var r struct {
		Data struct {
			Invitations struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		Errors json.RawMessage
	}
	if err := json.Unmarshal(body, &r); err != nil || status != http.StatusOK || r.Errors != nil {
		return nil, fmt.Errorf("bench: list IDs: status %d: %.300s", status, body)
	}
	var ids []string
	for _, e := range r.Data.Invitations.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids, nil
}

// entitiesRequest is the _entities request for ids.
func entitiesRequest(ids []string) ([]byte, error) {
	reps := make([]map[string]string, len(ids))
	for i, id := range ids {
		reps[i] = map[string]string{"__typename": "Invitation", "id": id}
	}
	return json.Marshal(map[string]any{"query": entitiesQuery, "variables": map[string]any{"r": reps}})
}

// checkEntities checks the _entities answer: 200, no errors, every representation resolved,
// in order.
func checkEntities(status int, body []byte, ids []string) error {
	var r struct {
		Data struct {
			Entities []*struct {
				ID           string
				Organization *struct{ Name string }
			} `json:"_entities"`
		}
		Errors json.RawMessage
	}
	if err := json.Unmarshal(body, &r); err != nil || status != http.StatusOK || r.Errors != nil {
		return fmt.Errorf("status %d: %.300s", status, body)
	}
	if len(r.Data.Entities) != len(ids) {
		return fmt.Errorf("%d entities, want %d", len(r.Data.Entities), len(ids))
	}
	for i, e := range r.Data.Entities {
		if e == nil || e.ID != ids[i] || e.Organization == nil || e.Organization.Name == "" {
			return errors.New("entity " + ids[i] + " missing, out of order or incomplete")
		}
	}
	return nil
}
