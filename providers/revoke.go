package providers

import (
	"context"
	"errors"
	"sync"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
)

// errInvitationNotFound is the item error of an invitation that does not exist, or does not
// exist in a configured organization: invitegw acts only on those.
func errInvitationNotFound() error { return invite.Errorf(invite.CodeNotFound, "invitation not found") }

// Revoke deletes the invitations ids names, batching where the provider allows: Redpanda and
// Frontier take one DELETE per invitation, Elastic one DELETE per organization for all of its
// tokens. invitegw never keeps Elastic tokens: it re-reads each organization's list from the
// upstream (never the cache) and finds them by digest. Providers and organizations are asked
// concurrently.
//
// The result holds one error per ID, in order: nil when revoked, NOT_FOUND when it does not
// exist (or is not in a configured organization), or the upstream's error. Every list a
// revocation may have changed is invalidated, with every kept response, durably.
func (s *Set) Revoke(ctx context.Context, ids []invite.ID) []error {
	errs := make([]error, len(ids))
	bySource := map[invite.Source][]int{}
	for i, id := range ids {
		src := id.Source()
		if !s.Configured(src) {
			errs[i] = errInvitationNotFound()
			continue
		}
		bySource[src] = append(bySource[src], i)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		changed []invite.Source
	)
	for src, idx := range bySource {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := s.revokeIn(ctx, src, ids, idx)
			mu.Lock()
			defer mu.Unlock()
			for j, i := range idx {
				errs[i] = out[j]
			}
			changed = append(changed, src)
		}()
	}
	wg.Wait()
	s.invalidateLists(ctx, changed)
	return errs
}

// revokeIn revokes the invitations ids[idx], all of source src; one error per index.
func (s *Set) revokeIn(ctx context.Context, src invite.Source, ids []invite.ID, idx []int) []error {
	out := make([]error, len(idx))
	switch src.Provider {
	case invite.Elastic:
		s.revokeElastic(ctx, src.OrgID, ids, idx, out)
	case invite.Redpanda:
		for j, i := range idx {
			out[j] = notFound(s.redpanda.DeleteUserInvite(ctx, ids[i].Key))
		}
	case invite.Frontier:
		for j, i := range idx {
			out[j] = notFound(s.frontier.DeleteOrganizationInvitation(ctx, src.OrgID, ids[i].Key))
		}
	}
	return out
}

// revokeElastic finds the tokens of ids[idx] in a fresh read of the organization's list and
// deletes them in one call. An error of that call is every item's.
func (s *Set) revokeElastic(ctx context.Context, org string, ids []invite.ID, idx []int, out []error) {
	list, err := s.elastic.ListInvitations(ctx, org)
	if err != nil {
		for j := range out {
			out[j] = err
		}
		return
	}
	byDigest := make(map[string]elastic.Token, len(list))
	for _, inv := range list {
		byDigest[inv.Token.Digest()] = inv.Token
	}
	var (
		tokens []elastic.Token
		sent   []int // positions in out of the tokens sent
		seen   = map[string]bool{}
	)
	for j, i := range idx {
		tok, ok := byDigest[ids[i].Key]
		switch {
		case !ok:
			out[j] = errInvitationNotFound()
		case seen[ids[i].Key]:
			// The same invitation twice: one token in the call, the same answer for both.
		default:
			seen[ids[i].Key] = true
			tokens = append(tokens, tok)
		}
		if ok {
			sent = append(sent, j)
		}
	}
	if len(tokens) == 0 {
		return
	}
	err = notFound(s.elastic.DeleteInvitations(ctx, org, tokens))
	for _, j := range sent {
		out[j] = err
	}
}

// notFound turns an upstream's not-found into the item's NOT_FOUND.
func notFound(err error) error {
	if errors.Is(err, upstream.ErrNotFound) {
		return errInvitationNotFound()
	}
	return err
}

// invalidateLists deletes the cached lists of srcs and every kept response, durably
// (cache.Invalidate): retried until it lands, for as long as a list could be served fresh.
func (s *Set) invalidateLists(ctx context.Context, srcs []invite.Source) {
	if len(srcs) == 0 {
		return
	}
	keys := make([]string, len(srcs))
	for i, src := range srcs {
		if src.Provider == invite.Redpanda {
			src.OrgID = "" // one list per token, whatever organization ID names it
		}
		keys[i] = s.key(kindInvitations, src.Provider, src.String())
	}
	var gen []cache.Entry
	if r := s.Responses(); r != nil {
		gen = append(gen, r.NewGeneration())
	}
	s.cache.Invalidate(ctx, keys, gen, s.ttl.Invitations)
}
