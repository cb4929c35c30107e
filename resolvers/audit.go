package resolvers

import (
	"strings"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/graph/model"
	"github.com/invitegw/invitegw/invite"
)

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
