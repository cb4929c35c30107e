package lifecycle

import (
	"context"
	"sync"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/errcode"
	"github.com/invitegw/invitegw/invite"
)

// Target is one organization to invite into, and what its invitations grant.
type Target struct {
	// OrganizationID is the unified organization ID (redpanda:<org>, elastic:<org>, ...).
	OrganizationID string
	Grant          invite.Grant
}

// Item is the outcome of one email at one organization.
type Item struct {
	Email          string
	OrganizationID string
	Provider       invite.Provider
	Invitation     *invite.Invitation
	Err            error
}

// CreateInvitations invites every email into every target. A structurally invalid call (no
// or too many emails or targets, an address that is not one, an organization ID that is not
// one, a grant the provider cannot express) is one BAD_USER_INPUT error and makes no call;
// otherwise every item has its own outcome, emails in order, each email's targets in order,
// and its own audit event.
func (s *Service) CreateInvitations(ctx context.Context, emails []string, targets []Target) ([]Item, error) {
	const op = "createInvitations"
	srcs, norm, err := s.checkCreate(emails, targets)
	if err != nil {
		var ts []audit.Target
		for _, t := range targets {
			ts = append(ts, audit.Target{OrganizationID: t.OrganizationID})
		}
		s.record(ctx, op, audit.OutcomeFailed, errcode.Of(err).Code, ts...)
		return nil, err
	}
	// Each organization gets its batch concurrently; within one, the provider's batching.
	perTarget := make([][]Item, len(targets))
	var wg sync.WaitGroup
	for j, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			perTarget[j] = s.createIn(ctx, srcs[j], t, norm)
		}()
	}
	wg.Wait()
	items := make([]Item, 0, len(norm)*len(targets))
	for i := range norm {
		for j := range targets {
			it := perTarget[j][i]
			items = append(items, it)
			o, code := result(it.Err)
			s.record(ctx, op, o, code, itemTarget(it))
		}
	}
	return items, nil
}

// checkCreate is CreateInvitations' structural check: the targets' sources and the emails,
// normalized.
func (s *Service) checkCreate(emails []string, targets []Target) ([]invite.Source, []string, error) {
	norm, err := invite.NormalizeEmails(emails)
	switch {
	case err != nil:
		return nil, nil, err
	case len(norm) == 0 || len(norm) > invite.MaxCreateEmails:
		return nil, nil, invite.Errorf(invite.CodeBadUserInput, "emails: give 1 to %d addresses, got %d", invite.MaxCreateEmails, len(norm))
	case len(targets) == 0 || len(targets) > invite.MaxCreateTargets:
		return nil, nil, invite.Errorf(invite.CodeBadUserInput, "targets: give 1 to %d organizations, got %d", invite.MaxCreateTargets, len(targets))
	case len(norm)*len(targets) > invite.MaxCreateItems:
		return nil, nil, invite.Errorf(invite.CodeBadUserInput, "at most %d email and target pairs per call, got %d", invite.MaxCreateItems, len(norm)*len(targets))
	}
	srcs := make([]invite.Source, len(targets))
	for j, t := range targets {
		src, err := invite.ParseOrgID(t.OrganizationID)
		if err != nil {
			return nil, nil, err
		}
		if err := s.o.Providers.CheckGrant(src, t.Grant); err != nil {
			return nil, nil, invite.Errorf(invite.CodeBadUserInput, "targets[%d].%s", j, err.Error())
		}
		srcs[j] = src
	}
	return srcs, norm, nil
}

// createIn invites emails into one target; one item per email.
func (s *Service) createIn(ctx context.Context, src invite.Source, t Target, emails []string) []Item {
	items := make([]Item, len(emails))
	for i, e := range emails {
		items[i] = Item{Email: e, OrganizationID: t.OrganizationID, Provider: src.Provider}
	}
	if err := s.checkRedpandaOrg(ctx, src); err != nil {
		for i := range items {
			items[i].Err = err
		}
		return items
	}
	for i, c := range s.o.Providers.Create(ctx, src, emails, t.Grant) {
		items[i].Invitation, items[i].Err = c.Invitation, c.Err
		s.logItemError(ctx, "createInvitations", c.Err)
	}
	return items
}

// checkRedpandaOrg makes sure a Redpanda target names the token's own organization: Redpanda
// invites into whatever organization the token belongs to, so another ID must not be taken
// for it.
func (s *Service) checkRedpandaOrg(ctx context.Context, src invite.Source) error {
	if src.Provider != invite.Redpanda || !s.o.Providers.Configured(src) {
		return nil
	}
	res := s.o.Providers.Organizations(ctx, []invite.Source{src})[0]
	if res.Err != nil {
		return res.Err
	}
	if res.Value.OrgID != src.OrgID {
		return invite.Errorf(invite.CodeNotFound, "organization %s is not configured", invite.OrgID(src.Provider, src.OrgID))
	}
	return nil
}

func itemTarget(it Item) audit.Target {
	t := audit.Target{Provider: string(it.Provider), OrganizationID: it.OrganizationID, Email: it.Email}
	if it.Invitation != nil {
		t.InvitationID = it.Invitation.ID
	}
	return t
}

// Revocation is the outcome of revoking one invitation.
type Revocation struct {
	ID       string
	Provider invite.Provider
	Email    string // known when offboarding
	Revoked  bool
	Err      error
}

// RevokeInvitations revokes invitations by ID, or (offboarding) every PENDING or EXPIRED
// invitation to email on every configured organization, read fresh from the providers. With
// dryRun nothing is changed or audited: the results say what would be revoked. Exactly one
// of ids and email; at most 100 IDs; malformed input is one BAD_USER_INPUT error.
func (s *Service) RevokeInvitations(ctx context.Context, ids []string, email *string, dryRun bool) ([]Revocation, error) {
	const op = "revokeInvitations"
	fail := func(err error, ts ...audit.Target) ([]Revocation, error) {
		s.record(ctx, op, audit.OutcomeFailed, errcode.Of(err).Code, ts...)
		return nil, err
	}
	if (ids == nil) == (email == nil) {
		return fail(invite.Errorf(invite.CodeBadUserInput, "give exactly one of ids and email"))
	}
	var (
		parsed []invite.ID
		out    []Revocation
	)
	if email != nil {
		addr, err := invite.NormalizeEmail(*email)
		if err != nil {
			return fail(err)
		}
		found, failed := s.o.Providers.OpenInvitationsTo(ctx, addr, s.o.Now())
		for _, f := range failed {
			out = append(out, Revocation{ID: invite.OrgID(f.Source.Provider, f.Source.OrgID), Provider: f.Source.Provider, Email: addr, Err: f.Err})
			s.logItemError(ctx, op, f.Err)
		}
		for _, inv := range found {
			id, err := invite.ParseID(inv.ID)
			if err != nil {
				return nil, err // our own IDs parse
			}
			parsed = append(parsed, id)
			out = append(out, Revocation{ID: inv.ID, Provider: inv.Provider, Email: addr})
		}
	} else {
		if len(ids) == 0 || len(ids) > invite.MaxFirst {
			return fail(invite.Errorf(invite.CodeBadUserInput, "ids: give 1 to %d IDs, got %d", invite.MaxFirst, len(ids)))
		}
		for _, raw := range ids {
			id, err := invite.ParseID(raw)
			if err != nil {
				return fail(err, audit.Target{InvitationID: raw})
			}
			parsed = append(parsed, id)
			out = append(out, Revocation{ID: raw, Provider: id.Provider})
		}
	}
	if dryRun {
		return out, nil
	}
	base := len(out) - len(parsed) // the invitations come after any unreadable organization
	for k, err := range s.o.Providers.Revoke(ctx, parsed) {
		out[base+k].Err, out[base+k].Revoked = err, err == nil
		s.logItemError(ctx, op, err)
	}
	for _, r := range out {
		o, code := result(r.Err)
		s.record(ctx, op, o, code, audit.Target{InvitationID: r.ID, Provider: string(r.Provider), Email: r.Email})
	}
	return out, nil
}

// ResendInvitation sends an Elastic invitation again; the others cannot be. A malformed ID is
// err; what happened to a well-formed one (NOT_FOUND, UNSUPPORTED_OPERATION, an upstream
// failure) is itemErr, and audited.
func (s *Service) ResendInvitation(ctx context.Context, id string) (inv *invite.Invitation, itemErr, err error) {
	const op = "resendInvitation"
	iid, err := invite.ParseID(id)
	if err != nil {
		s.record(ctx, op, audit.OutcomeFailed, errcode.Of(err).Code, audit.Target{InvitationID: id})
		return nil, nil, err
	}
	inv, itemErr = s.o.Providers.Resend(ctx, iid)
	s.logItemError(ctx, op, itemErr)
	t := audit.Target{InvitationID: id, Provider: string(iid.Provider)}
	if iid.OrgID != "" {
		t.OrganizationID = invite.OrgID(iid.Provider, iid.OrgID)
	}
	if inv != nil {
		t.Email = inv.Email
	}
	o, code := result(itemErr)
	s.record(ctx, op, o, code, t)
	return inv, itemErr, nil
}

// logItemError logs what an item's error does not tell the client: an upstream failure's
// details, or an unexpected error in full. Items are data, so the GraphQL error presenter,
// which logs errors of fields, never sees them.
func (s *Service) logItemError(ctx context.Context, op string, err error) {
	if err == nil {
		return
	}
	c := errcode.Of(err)
	switch {
	case c.Upstream != nil:
		s.o.Logger.WarnContext(ctx, "upstream error", "request_id", s.o.RequestID(ctx), "operation", op, "error", c.Upstream.Error())
	case !c.Known:
		s.o.Logger.ErrorContext(ctx, "internal error", "request_id", s.o.RequestID(ctx), "operation", op, "error", err.Error())
	}
}
