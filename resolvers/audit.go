package resolvers

import (
	"context"
	"errors"
	"strings"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/graph/model"
	"github.com/invitegw/invitegw/invite"
)

// listAudit reads one page of the trail; a page size out of range or a cursor that is not
// one of ours is the caller's mistake.
func listAudit(ctx context.Context, store audit.Store, f audit.Filter, first int, after string) (audit.Page, error) {
	if first < 1 || first > invite.MaxFirst {
		return audit.Page{}, invite.Errorf(invite.CodeBadUserInput, "first must be between 1 and %d, got %d", invite.MaxFirst, first)
	}
	page, err := store.List(ctx, f, first, after)
	if errors.Is(err, audit.ErrBadCursor) {
		return audit.Page{}, invite.Errorf(invite.CodeBadUserInput, "after is not a cursor of auditEvents")
	}
	return page, err
}

// toAuditFilter turns the GraphQL filter into the store's.
func toAuditFilter(in *model.AuditFilter) audit.Filter {
	var f audit.Filter
	if in == nil {
		return f
	}
	f.ActorSubject, f.Email, f.Operation = deref(in.ActorSubject), strings.TrimSpace(deref(in.Email)), deref(in.Operation)
	if in.Since != nil {
		f.Since = *in.Since
	}
	if in.Until != nil {
		f.Until = *in.Until
	}
	return f
}

// toAuditConnection is a page of events as the schema shapes it.
func toAuditConnection(p audit.Page) *model.AuditEventConnection {
	c := &model.AuditEventConnection{
		Edges:    make([]*model.AuditEventEdge, len(p.Events)),
		Nodes:    make([]*model.AuditEvent, len(p.Events)),
		PageInfo: &invite.PageInfo{HasNextPage: p.HasNext},
	}
	for i := range p.Events {
		e := &p.Events[i]
		n := &model.AuditEvent{
			ID:        e.ID,
			At:        e.At,
			Actor:     &model.Actor{Kind: model.ActorKind(e.Actor.Kind), Subject: e.Actor.Subject, Issuer: optional(e.Actor.Issuer)},
			Operation: e.Operation,
			Outcome:   model.AuditOutcome(e.Outcome),
			ErrorCode: optional(e.ErrorCode),
			RequestID: optional(e.RequestID),
			Targets:   make([]*model.AuditTarget, len(e.Targets)),
		}
		for j, t := range e.Targets {
			at := &model.AuditTarget{InvitationID: optional(t.InvitationID), OrganizationID: optional(t.OrganizationID), Email: optional(t.Email)}
			if p := invite.Provider(t.Provider); p.IsValid() {
				at.Provider = &p
			}
			n.Targets[j] = at
		}
		c.Nodes[i] = n
		c.Edges[i] = &model.AuditEventEdge{Cursor: e.Cursor(), Node: n}
	}
	if len(p.Events) > 0 {
		start, end := c.Edges[0].Cursor, p.EndCursor
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &start, &end
	}
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optional is nil for "" (a null in GraphQL).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
