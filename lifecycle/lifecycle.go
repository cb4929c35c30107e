// Package lifecycle carries out changes to invitations: each one is checked, sent to its
// provider, and recorded in the audit trail, whether it succeeded, failed or was refused.
// Resolvers call it; providers do the upstream calls and the cache invalidation.
package lifecycle

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/errcode"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/providers"
)

// Options wire a Service. Providers and Audit are required.
type Options struct {
	Providers *providers.Set
	Audit     *audit.Log
	// Now is the clock changes are validated with. Default time.Now.
	Now func() time.Time
	// Logger gets what item errors do not tell clients. Default slog.Default().
	Logger *slog.Logger
	// Actor is who makes the request in ctx; RequestID its ID. Both default to nothing known.
	Actor     func(ctx context.Context) audit.Actor
	RequestID func(ctx context.Context) string
}

// Service carries out changes.
type Service struct {
	o Options
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Actor == nil {
		o.Actor = func(context.Context) audit.Actor {
			return audit.Actor{Kind: audit.ActorAnonymous, Subject: "anonymous"}
		}
	}
	if o.RequestID == nil {
		o.RequestID = func(context.Context) string { return "" }
	}
	return &Service{o: o}
}

// record writes one audit event for an attempt by the caller in ctx.
func (s *Service) record(ctx context.Context, operation string, outcome audit.Outcome, code string, targets ...audit.Target) {
	e := audit.Event{
		Actor:     s.o.Actor(ctx),
		Operation: operation,
		Outcome:   outcome,
		RequestID: s.o.RequestID(ctx),
		ErrorCode: code,
		Targets:   targets,
	}
	s.o.Audit.Record(ctx, e)
}

// result is the outcome and error code of an attempt that ended with err.
func result(err error) (audit.Outcome, string) {
	if err != nil {
		return audit.OutcomeFailed, errcode.Of(err).Code
	}
	return audit.OutcomeSucceeded, ""
}

// UpdateInvitation changes a Redpanda invite's expiry or roles.
func (s *Service) UpdateInvitation(ctx context.Context, id string, upd invite.Update) (inv *invite.Invitation, err error) {
	target := audit.Target{InvitationID: id}
	defer func() {
		if inv != nil {
			target = targetOf(inv)
		}
		o, code := result(err)
		s.record(ctx, "updateInvitation", o, code, target)
	}()
	iid, err := invite.ParseID(id)
	if err != nil {
		return nil, err
	}
	target.Provider = string(iid.Provider)
	if iid.Provider != invite.Redpanda {
		return nil, invite.Errorf(invite.CodeUnsupported, "%s invitations cannot be updated", iid.Provider)
	}
	if err := upd.Validate(s.o.Now()); err != nil {
		return nil, err
	}
	return s.o.Providers.UpdateRedpandaInvite(ctx, iid.Key, upd)
}

// targetOf is what an audit event says of an invitation acted on.
func targetOf(inv *invite.Invitation) audit.Target {
	t := audit.Target{InvitationID: inv.ID, Provider: string(inv.Provider), Email: strings.ToLower(strings.TrimSpace(inv.Email))}
	if inv.OrgID != "" {
		t.OrganizationID = invite.OrgID(inv.Provider, inv.OrgID)
	}
	return t
}

// Refused records an attempt refused for want of a scope: nothing was sent upstream. targets
// are what its arguments say it would act on.
func (s *Service) Refused(ctx context.Context, operation string, targets []audit.Target) {
	s.record(ctx, operation, audit.OutcomeForbidden, "FORBIDDEN", targets...)
}
