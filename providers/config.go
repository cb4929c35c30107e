package providers

import (
	"net/http"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/config"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// FromConfig builds the clients of every enabled provider, sharing one HTTP client (and so one
// connection pool), and the Set over them and c (nil: no cache). policy, if not nil, gives
// each provider's calls their policy. cfg must have passed config.Validate.
func FromConfig(cfg *config.Config, hc *http.Client, policy func(p invite.Provider) *upstream.Policy, c *cache.Cache) (*Set, error) {
	if policy == nil {
		policy = func(invite.Provider) *upstream.Policy { return nil }
	}
	o := Options{Cache: c, TTL: TTL{Invitations: cfg.Cache.TTLInvitations, Directory: cfg.Cache.TTLDirectory}}
	var err error
	if cfg.Redpanda.Enabled() {
		o.Redpanda, err = redpanda.NewClient(redpanda.Options{
			BaseURL: cfg.Redpanda.URL, HTTP: hc, Timeout: cfg.Redpanda.Timeout, Policy: policy(invite.Redpanda), Token: cfg.Redpanda.Token,
			ClientID: cfg.Redpanda.ClientID, ClientSecret: cfg.Redpanda.ClientSecret, TokenURL: cfg.Redpanda.TokenURL,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.Elastic.Enabled() {
		o.Elastic, err = elastic.NewClient(elastic.Options{BaseURL: cfg.Elastic.URL, HTTP: hc, Timeout: cfg.Elastic.Timeout,
			Policy: policy(invite.Elastic), APIKey: cfg.Elastic.APIKey})
		if err != nil {
			return nil, err
		}
		o.ElasticOrgs = cfg.Elastic.Organizations
	}
	if cfg.Frontier.Enabled() {
		o.Frontier, err = frontier.NewClient(frontier.Options{
			BaseURL: cfg.Frontier.URL, HTTP: hc, Timeout: cfg.Frontier.Timeout, Policy: policy(invite.Frontier),
			Token: cfg.Frontier.Token, Protocol: cfg.Frontier.Protocol,
			ClientID: cfg.Frontier.ClientID, ClientSecret: cfg.Frontier.ClientSecret,
		})
		if err != nil {
			return nil, err
		}
		o.FrontierOrgs = cfg.Frontier.Organizations
	}
	return New(o)
}
