package providers_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/config"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/upstream/elastic"
)

func TestNew(t *testing.T) {
	ec, err := elastic.NewClient(elastic.Options{BaseURL: "http://127.0.0.1:1", Timeout: 5 * time.Second, APIKey: "key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := providers.TTL{Invitations: 30 * time.Second, Directory: 5 * time.Minute}
	tests := []struct {
		name string
		o    providers.Options
		err  string // substring; "" for success
	}{
		{"one provider", providers.Options{Elastic: ec, ElasticOrgs: []string{"1004"}, TTL: ttl}, ""},
		{"no TTL", providers.Options{Elastic: ec, ElasticOrgs: []string{"1004"}}, "TTLs must be positive"},
		{"negative directory TTL", providers.Options{Elastic: ec, ElasticOrgs: []string{"1004"},
			TTL: providers.TTL{Invitations: time.Second, Directory: -time.Second}}, "TTLs must be positive"},
		{"Elastic without organizations", providers.Options{Elastic: ec, TTL: ttl}, "at least one organization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := providers.New(tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !s.Enabled(invite.Elastic) || s.Enabled(invite.Redpanda) || s.Responses() != nil {
				t.Fatalf("enabled: elastic %v redpanda %v; responses %v", s.Enabled(invite.Elastic), s.Enabled(invite.Redpanda), s.Responses())
			}
		})
	}
	t.Run("later changes to the options do not reach the set", func(t *testing.T) {
		orgs := []string{"1004"}
		s, err := providers.New(providers.Options{Elastic: ec, ElasticOrgs: orgs, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		orgs[0] = "9999"
		if src := s.Sources(); len(src) != 1 || src[0].OrgID != "1004" {
			t.Fatalf("sources = %v", src)
		}
	})
}

// TestFromConfig: config's defaults are all the clients need (they substitute none of their
// own), and a configuration that skipped them is refused by the client, not patched.
func TestFromConfig(t *testing.T) {
	env := map[string]string{
		// Client credentials: the token URL comes from config's default alone.
		"INVITEGW_REDPANDA_CLIENT_ID":     "id",
		"INVITEGW_REDPANDA_CLIENT_SECRET": "secret",
		"INVITEGW_ELASTIC_API_KEY":        "key-0123456789",
		"INVITEGW_ELASTIC_ORGANIZATIONS":  "1004",
		"INVITEGW_FRONTIER_URL":           "https://frontier.internal",
		"INVITEGW_FRONTIER_TOKEN":         "tok",
		"INVITEGW_FRONTIER_ORGANIZATIONS": "o1",
	}
	load := func(t *testing.T) *config.Config {
		t.Helper()
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Run("defaults are enough", func(t *testing.T) {
		s, err := providers.FromConfig(load(t), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range invite.Providers {
			if !s.Enabled(p) {
				t.Errorf("%v not enabled", p)
			}
		}
	})
	tests := []struct {
		name    string
		change  func(c *config.Config)
		wantErr string
	}{
		{name: "no redpanda timeout", change: func(c *config.Config) { c.Redpanda.Timeout = 0 },
			wantErr: "redpanda: timeout must be positive, got 0s"},
		{name: "no redpanda token url", change: func(c *config.Config) { c.Redpanda.TokenURL = "" },
			wantErr: "redpanda: token url is required with client credentials"},
		{name: "no elastic url", change: func(c *config.Config) { c.Elastic.URL = "" },
			wantErr: "elastic: base url is required"},
		{name: "no frontier timeout", change: func(c *config.Config) { c.Frontier.Timeout = 0 },
			wantErr: "frontier: timeout must be positive, got 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused, not defaulted", func(t *testing.T) {
			cfg := load(t)
			tt.change(cfg)
			_, err := providers.FromConfig(cfg, nil, nil, nil)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
