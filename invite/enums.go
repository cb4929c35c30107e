package invite

import (
	"io"
	"strconv"
)

// Provider is one of the upstream platforms. Its values are the GraphQL enum values.
type Provider string

// The providers invitegw speaks to.
const (
	Redpanda Provider = "REDPANDA"
	Elastic  Provider = "ELASTIC"
	Frontier Provider = "FRONTIER"
)

// Providers lists every provider in a fixed order.
var Providers = []Provider{Redpanda, Elastic, Frontier}

// Slug is the lower-case form used in IDs, cache keys and logs.
func (p Provider) Slug() string {
	switch p {
	case Redpanda:
		return "redpanda"
	case Elastic:
		return "elastic"
	case Frontier:
		return "frontier"
	}
	return ""
}

// ProviderFromSlug is the inverse of Slug.
func ProviderFromSlug(s string) (Provider, bool) {
	for _, p := range Providers {
		if p.Slug() == s {
			return p, true
		}
	}
	return "", false
}

// IsValid reports whether p is a known provider.
func (p Provider) IsValid() bool { return p.Slug() != "" }

// MarshalGQL writes the GraphQL enum value.
func (p Provider) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(p))) }

// UnmarshalGQL reads a GraphQL enum value.
func (p *Provider) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, p, Provider.IsValid, "Provider")
}

// Status is an invitation's state, always derived at read time (Invitation.Status).
type Status string

// The invitation states.
const (
	StatusPending  Status = "PENDING"
	StatusExpired  Status = "EXPIRED"
	StatusAccepted Status = "ACCEPTED"
)

// IsValid reports whether s is a known status.
func (s Status) IsValid() bool {
	return s == StatusPending || s == StatusExpired || s == StatusAccepted
}

// MarshalGQL writes the GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, s, Status.IsValid, "InvitationStatus")
}

// ScopeType is the kind of resource a role binding is scoped to. Provider values that have no
// unified name (new Redpanda resource types, for one) become ScopeOther rather than failing.
type ScopeType string

// The scope resource types.
const (
	ScopeOrganization      ScopeType = "ORGANIZATION"
	ScopeResourceGroup     ScopeType = "RESOURCE_GROUP"
	ScopeNetwork           ScopeType = "NETWORK"
	ScopeCluster           ScopeType = "CLUSTER"
	ScopeServerlessCluster ScopeType = "SERVERLESS_CLUSTER"
	ScopeNetworkPeering    ScopeType = "NETWORK_PEERING"
	ScopeDeployment        ScopeType = "DEPLOYMENT"
	ScopeProject           ScopeType = "PROJECT"
	ScopeOther             ScopeType = "OTHER"
)

// IsValid reports whether t is a known scope type.
func (t ScopeType) IsValid() bool {
	switch t {
	case ScopeOrganization, ScopeResourceGroup, ScopeNetwork, ScopeCluster, ScopeServerlessCluster,
		ScopeNetworkPeering, ScopeDeployment, ScopeProject, ScopeOther:
		return true
	}
	return false
}

// MarshalGQL writes the GraphQL enum value.
func (t ScopeType) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(t))) }

// UnmarshalGQL reads a GraphQL enum value.
func (t *ScopeType) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, t, ScopeType.IsValid, "ScopeResourceType")
}

func unmarshalEnum[T ~string](v any, dst *T, valid func(T) bool, name string) error {
	s, ok := v.(string)
	if !ok {
		return Errorf(CodeBadUserInput, "%s must be a string", name)
	}
	if !valid(T(s)) {
		return Errorf(CodeBadUserInput, "%q is not a valid %s", s, name)
	}
	*dst = T(s)
	return nil
}
