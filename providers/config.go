package providers

import (
	"net/http"

	"github.com/invitegw/invitegw/config"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// FromConfig builds the clients of every enabled provider, sharing one HTTP client (and so one
// connection pool). policy, if not nil, gives each provider's calls their policy. c must have
// passed config.Validate.
func FromConfig(c *config.Config, hc *http.Client, policy func(p invite.Provider) *upstream.Policy) (*Set, error) {
	if policy == nil {
		policy = func(invite.Provider) *upstream.Policy { return nil }
	}
	s := &Set{}
	var err error
	if c.Redpanda.Enabled() {
		s.Redpanda, err = redpanda.NewClient(redpanda.Options{
			BaseURL: c.Redpanda.URL, HTTP: hc, Timeout: c.Redpanda.Timeout, Policy: policy(invite.Redpanda), Token: c.Redpanda.Token,
			ClientID: c.Redpanda.ClientID, ClientSecret: c.Redpanda.ClientSecret, TokenURL: c.Redpanda.TokenURL,
		})
		if err != nil {
			return nil, err
		}
	}
	if c.Elastic.Enabled() {
		s.Elastic, err = elastic.NewClient(elastic.Options{BaseURL: c.Elastic.URL, HTTP: hc, Timeout: c.Elastic.Timeout,
			Policy: policy(invite.Elastic), APIKey: c.Elastic.APIKey})
		if err != nil {
			return nil, err
		}
		s.ElasticOrgs = c.Elastic.Organizations
	}
	if c.Frontier.Enabled() {
		s.Frontier, err = frontier.NewClient(frontier.Options{
			BaseURL: c.Frontier.URL, HTTP: hc, Timeout: c.Frontier.Timeout, Policy: policy(invite.Frontier),
			Token: c.Frontier.Token, Protocol: c.Frontier.Protocol,
			ClientID: c.Frontier.ClientID, ClientSecret: c.Frontier.ClientSecret,
		})
		if err != nil {
			return nil, err
		}
		s.FrontierOrgs = c.Frontier.Organizations
	}
	return s, nil
}
