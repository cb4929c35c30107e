// Package resolvers holds the GraphQL resolvers: thin translations between the schema and the
// loaders. Fetching, merging, caching and paging live in loaders, providers and invite.
package resolvers

import (
	"time"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/lifecycle"
	"github.com/invitegw/invitegw/providers"
)

// Resolver is the dependency root of the GraphQL layer.
type Resolver struct {
	Providers *providers.Set
	// Now is the clock used to derive statuses; time.Now in production, fixed in tests.
	Now func() time.Time
	// Lifecycle carries out every mutation (and audits it).
	Lifecycle *lifecycle.Service
	// Audit is the audit trail's store, read by auditEvents.
	Audit audit.Store
}
