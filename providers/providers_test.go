package providers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/upstream/elastic"
)

func TestNew(t *testing.T) {
	ec, err := elastic.NewClient(elastic.Options{BaseURL: "http://127.0.0.1:1", APIKey: "key-0123456789"})
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
