package gateway

import (
	"context"
	"net/http"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/auth"
	"github.com/invitegw/invitegw/authz"
)

// DefaultAuditEvents is how many audit events the in-memory trail keeps when no store is given.
const DefaultAuditEvents = 100000

// caller is the authenticated caller of the request, for the scope checks; nil (no scopes)
// when the request was not authenticated, which the auth middleware does not let happen.
func caller(ctx context.Context) authz.Caller {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	return id
}

// actor is the caller as the audit trail names it.
func actor(ctx context.Context) audit.Actor {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return audit.Actor{Kind: audit.ActorAnonymous, Subject: "anonymous"}
	}
	return audit.Actor{Kind: audit.ActorKind(id.Kind), Subject: id.Subject, Issuer: id.Issuer}
}

// idempotencyCaller is whose Idempotency-Keys a request's key is among: the identity, not its
// scopes (a retry after a token refresh is the same caller's). Open gateways share one space.
func idempotencyCaller(r *http.Request) (string, bool) {
	id, ok := auth.FromContext(r.Context())
	if !ok {
		return "", false
	}
	return string(id.Kind) + "\x00" + id.Issuer + "\x00" + id.Subject, true
}
