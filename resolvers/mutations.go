package resolvers

import (
	"context"
	"time"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/errcode"
	"github.com/invitegw/invitegw/graph/model"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/lifecycle"
	"github.com/invitegw/invitegw/loaders"
)

// toTargets turns the GraphQL targets into lifecycle's.
func toTargets(in []*model.InvitationTargetInput) []lifecycle.Target {
	out := make([]lifecycle.Target, len(in))
	for i, t := range in {
		u := toUpdate(&model.UpdateInvitationInput{RoleBindings: t.RoleBindings})
		out[i] = lifecycle.Target{OrganizationID: t.OrganizationID, Grant: invite.Grant{RoleBindings: u.RoleBindings, GroupIDs: t.GroupIds}}
	}
	return out
}

// toCreatePayload is the items as the schema shapes them, the created invitations joined for
// what the selection asks of them.
func toCreatePayload(ctx context.Context, items []lifecycle.Item, now time.Time) *model.CreateInvitationsPayload {
	var created []*invite.Invitation
	for _, it := range items {
		if it.Invitation != nil {
			created = append(created, it.Invitation)
		}
	}
	joined := loaders.For(ctx).Join(ctx, created, joins(ctx, inResults), now)
	out := &model.CreateInvitationsPayload{Results: make([]*model.InvitationResult, len(items))}
	k := 0
	for i, it := range items {
		res := &model.InvitationResult{Email: it.Email, OrganizationID: it.OrganizationID, Provider: it.Provider, Error: mutationError(it.Err)}
		if it.Invitation != nil {
			res.Invitation = joined[k]
			k++
		}
		out.Results[i] = res
	}
	return out
}

func toRevokePayload(revs []lifecycle.Revocation) *model.RevokeInvitationsPayload {
	out := &model.RevokeInvitationsPayload{Results: make([]*model.RevocationResult, len(revs))}
	for i, r := range revs {
		out.Results[i] = &model.RevocationResult{ID: r.ID, Provider: r.Provider, Email: optional(r.Email), Revoked: r.Revoked, Error: mutationError(r.Err)}
	}
	return out
}

// mutationError is an item's error as data: the code and message clients would see for it
// as a GraphQL error.
func mutationError(err error) *model.MutationError {
	if err == nil {
		return nil
	}
	c := errcode.Of(err)
	return &model.MutationError{Code: c.Code, Message: c.Message}
}

// RefusedTargets are what a mutation's arguments, as gqlgen parsed them, say it would act on:
// the audit trail's targets of an attempt refused before it ran.
func RefusedTargets(args map[string]any) []audit.Target {
	var out []audit.Target
	idTarget := func(id string) audit.Target {
		t := audit.Target{InvitationID: id}
		if iid, err := invite.ParseID(id); err == nil {
			t.Provider = string(iid.Provider)
		}
		return t
	}
	if id, ok := args["id"].(string); ok {
		out = append(out, idTarget(id))
	}
	switch in := args["input"].(type) {
	case model.CreateInvitationsInput:
		for _, e := range in.Emails {
			for _, t := range in.Targets {
				out = append(out, audit.Target{Email: e, OrganizationID: t.OrganizationID})
			}
		}
	case model.RevokeInvitationsInput:
		for _, id := range in.Ids {
			out = append(out, idTarget(id))
		}
		if in.Email != nil {
			out = append(out, audit.Target{Email: *in.Email})
		}
	}
	return out
}
