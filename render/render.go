// Package render writes a page of invitations (an InvitationConnection) straight to JSON, the
// bytes gqlgen's generated code would write for the same selection, without gqlgen's work per
// field of every node: a field context, a middleware call and a marshaler per field, and a
// goroutine per list element. Executing a 50-node query spent most of its CPU there.
//
// The selection is compiled once per connection field into a plan of the fields it asks for
// (graphql.CollectFields: the same merging, fragments, aliases and @skip/@include), and the
// page is written from the plan with gqlgen's own scalar marshalers, so strings, times and
// enums come out byte for byte the same. Anything the plan does not know (a field added to the
// schema later, @defer, a nested connection) or a joined value that failed (its error needs
// gqlgen's path and null handling) makes Connection decline, and gqlgen marshals the page as
// before. TestRenderIsGQLGen in gateway compares both on every field.
package render

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/loaders"
)

// ConnectionType is the GraphQL type render writes.
const ConnectionType = "InvitationConnection"

// Pages writes pages of invitations, and counts how often it could.
type Pages struct {
	rendered, declined atomic.Uint64
}

// Counts are the pages written by render and the pages left to gqlgen.
func (p *Pages) Counts() (rendered, declined uint64) { return p.rendered.Load(), p.declined.Load() }

// Field is a field middleware for the operations that select a connection: for a field of
// type InvitationConnection it answers the resolved page as a finished JSON value when it can
// (gqlgen takes a Marshaler returned by a middleware as the field's output).
func (p *Pages) Field(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	fc := graphql.GetFieldContext(ctx)
	conn, ok := res.(*loaders.Connection)
	if !ok || conn == nil || fc == nil || fc.Field.Definition == nil || fc.Field.Definition.Type.Name() != ConnectionType {
		return res, err
	}
	if m, ok := Connection(ctx, fc.Field.Selections, conn); ok {
		p.rendered.Add(1)
		return m, nil
	}
	p.declined.Add(1)
	return res, nil
}

// Connection writes conn as sel selects it; false when render cannot (see the package doc).
func Connection(ctx context.Context, sel ast.SelectionSet, conn *loaders.Connection) (graphql.Marshaler, bool) {
	if !graphql.HasOperationContext(ctx) {
		return nil, false
	}
	c := compiler{op: graphql.GetOperationContext(ctx)}
	p := c.object(sel, ConnectionType, connectionFields)
	if !c.ok() {
		return nil, false
	}
	w := writer{}
	w.connection(p, conn)
	if w.failed {
		return nil, false
	}
	return graphql.WriterFunc(func(out io.Writer) { _, _ = out.Write(w.buf.Bytes()) }), true
}

// kind is what a plan field writes.
type kind int

const (
	kTypename kind = iota
	// InvitationConnection
	kTotalCount
	kPageInfo
	kEdges
	kNodes
	// PageInfo
	kHasNext
	kHasPrevious
	kStartCursor
	kEndCursor
	// InvitationEdge
	kCursor
	kNode
	// Invitation
	kID
	kProvider
	kEmail
	kStatus
	kCreatedAt
	kExpiresAt
	kAcceptedAt
	kInviteURL
	kOrganization
	kRoleBindings
	kGroups
	kMetadata
	kUser
	// Organization
	kOrgID
	kOrgProvider
	kOrgName
	// RoleBinding and Scope
	kRoleName
	kScope
	kResourceType
	kResourceID
	// Group
	kGroupID
	kGroupName
	kGroupTitle
	// User
	kUserEmail
)

// field is one entry of a plan: its JSON key, already written, what to write, and the plan of
// its selection.
type field struct {
	key  []byte
	kind kind
	sub  plan
}

type plan struct {
	typename string
	fields   []field
}

// A type's fields render knows, by name, and the type of the object each one holds.
type known map[string]struct {
	kind kind
	sub  string // the object type of its selection; "" for scalars and enums
	subs *known // that type's fields
}

var (
	connectionFields, pageInfoFields, edgeFields, invitationFields  known
	organizationFields, roleBindingFields, scopeFields, groupFields known
	userFields                                                      known
)

func init() {
	type e = struct {
		kind kind
		sub  string
		subs *known
	}
	scopeFields = known{"resourceType": e{kResourceType, "", nil}, "resourceId": e{kResourceID, "", nil}}
	roleBindingFields = known{"roleName": e{kRoleName, "", nil}, "scope": e{kScope, "Scope", &scopeFields}}
	groupFields = known{"id": e{kGroupID, "", nil}, "name": e{kGroupName, "", nil}, "title": e{kGroupTitle, "", nil}}
	organizationFields = known{"id": e{kOrgID, "", nil}, "provider": e{kOrgProvider, "", nil}, "name": e{kOrgName, "", nil}}
	userFields = known{"email": e{kUserEmail, "", nil}}
	invitationFields = known{
		"id": e{kID, "", nil}, "provider": e{kProvider, "", nil}, "email": e{kEmail, "", nil},
		"status": e{kStatus, "", nil}, "createdAt": e{kCreatedAt, "", nil}, "expiresAt": e{kExpiresAt, "", nil},
		"acceptedAt": e{kAcceptedAt, "", nil}, "inviteUrl": e{kInviteURL, "", nil}, "metadata": e{kMetadata, "", nil},
		"organization": e{kOrganization, "Organization", &organizationFields},
		"roleBindings": e{kRoleBindings, "RoleBinding", &roleBindingFields},
		"groups":       e{kGroups, "Group", &groupFields},
		"user":         e{kUser, "User", &userFields},
	}
	pageInfoFields = known{"hasNextPage": e{kHasNext, "", nil}, "hasPreviousPage": e{kHasPrevious, "", nil},
		"startCursor": e{kStartCursor, "", nil}, "endCursor": e{kEndCursor, "", nil}}
	edgeFields = known{"cursor": e{kCursor, "", nil}, "node": e{kNode, "Invitation", &invitationFields}}
	connectionFields = known{"totalCount": e{kTotalCount, "", nil}, "pageInfo": e{kPageInfo, "PageInfo", &pageInfoFields},
		"edges": e{kEdges, "InvitationEdge", &edgeFields}, "nodes": e{kNodes, "Invitation", &invitationFields}}
}

// compiler turns selections into plans; one unknown field spoils the whole.
type compiler struct {
	op      *graphql.OperationContext
	unknown bool
}

func (c *compiler) ok() bool { return !c.unknown }

func (c *compiler) object(sel ast.SelectionSet, typename string, fields known) plan {
	p := plan{typename: typename}
	for _, f := range graphql.CollectFields(c.op, sel, []string{typename}) {
		if len(f.Deferrables) > 0 {
			c.unknown = true
			return p
		}
		var key bytes.Buffer
		graphql.MarshalString(f.Alias).MarshalGQL(&key)
		key.WriteByte(':')
		pf := field{key: key.Bytes()}
		if f.Name == "__typename" {
			pf.kind = kTypename
		} else {
			k, ok := fields[f.Name]
			if !ok {
				c.unknown = true
				return p
			}
			pf.kind = k.kind
			if k.subs != nil {
				pf.sub = c.object(f.Selections, k.sub, *k.subs)
			}
		}
		p.fields = append(p.fields, pf)
	}
	return p
}

// writer writes values by plans; a joined value that failed sets failed.
type writer struct {
	buf    bytes.Buffer
	failed bool
}

func (w *writer) marshal(m graphql.Marshaler) { m.MarshalGQL(&w.buf) }
func (w *writer) str(s string)                { graphql.MarshalString(s).MarshalGQL(&w.buf) }
func (w *writer) null()                       { w.buf.WriteString("null") }

func (w *writer) optStr(s *string) {
	if s == nil {
		w.null()
		return
	}
	w.str(*s)
}

// object writes {"key":value,...}, each value by fn.
func (w *writer) object(p plan, fn func(f *field)) {
	w.buf.WriteByte('{')
	for i := range p.fields {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		f := &p.fields[i]
		w.buf.Write(f.key)
		if f.kind == kTypename {
			w.str(p.typename)
			continue
		}
		fn(f)
	}
	w.buf.WriteByte('}')
}

func list[T any](w *writer, items []T, each func(T)) {
	w.buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		each(it)
	}
	w.buf.WriteByte(']')
}

func (w *writer) connection(p plan, c *loaders.Connection) {
	w.object(p, func(f *field) {
		switch f.kind {
		case kTotalCount:
			w.marshal(graphql.MarshalInt(c.TotalCount))
		case kPageInfo:
			w.object(f.sub, func(g *field) {
				switch g.kind {
				case kHasNext:
					w.marshal(graphql.MarshalBoolean(c.PageInfo.HasNextPage))
				case kHasPrevious:
					w.marshal(graphql.MarshalBoolean(c.PageInfo.HasPreviousPage))
				case kStartCursor:
					w.optStr(c.PageInfo.StartCursor)
				case kEndCursor:
					w.optStr(c.PageInfo.EndCursor)
				}
			})
		case kEdges:
			list(w, c.Edges, func(e loaders.Edge) {
				w.object(f.sub, func(g *field) {
					switch g.kind {
					case kCursor:
						w.str(e.Cursor)
					case kNode:
						w.invitation(g.sub, e.Node)
					}
				})
			})
		case kNodes:
			list(w, c.Edges, func(e loaders.Edge) { w.invitation(f.sub, e.Node) })
		}
	})
}

func (w *writer) invitation(p plan, inv *loaders.Invitation) {
	w.object(p, func(f *field) {
		switch f.kind {
		case kID:
			w.marshal(graphql.MarshalID(inv.ID))
		case kProvider:
			inv.Provider.MarshalGQL(&w.buf)
		case kEmail:
			w.str(inv.Email)
		case kStatus:
			st, err := inv.Status()
			w.check(err)
			st.MarshalGQL(&w.buf)
		case kCreatedAt:
			w.marshal(invite.MarshalTime(inv.CreatedAt))
		case kExpiresAt, kAcceptedAt:
			t := inv.ExpiresAt
			if f.kind == kAcceptedAt {
				t = inv.AcceptedAt
			}
			if t == nil {
				w.null()
			} else {
				w.marshal(invite.MarshalTime(*t))
			}
		case kInviteURL:
			w.optStr(inv.InviteURL)
		case kMetadata:
			if inv.Metadata == nil {
				w.null()
			} else {
				w.marshal(graphql.MarshalMap(inv.Metadata))
			}
		case kOrganization:
			org, err := inv.Organization()
			w.check(err)
			if org == nil {
				w.null()
				return
			}
			w.object(f.sub, func(g *field) {
				switch g.kind {
				case kOrgID:
					w.marshal(graphql.MarshalID(org.ID))
				case kOrgProvider:
					org.Provider.MarshalGQL(&w.buf)
				case kOrgName:
					w.str(org.Name)
				}
			})
		case kRoleBindings:
			rbs, err := inv.RoleBindings()
			w.check(err)
			list(w, rbs, func(rb *invite.RoleBinding) { w.roleBinding(f.sub, rb) })
		case kGroups:
			gs, err := inv.Groups()
			w.check(err)
			list(w, gs, func(g *invite.Group) {
				w.object(f.sub, func(h *field) {
					switch h.kind {
					case kGroupID:
						w.marshal(graphql.MarshalID(g.ID))
					case kGroupName:
						w.str(g.Name)
					case kGroupTitle:
						w.optStr(g.Title)
					}
				})
			})
		case kUser:
			// Invitation.user's resolver: the invitee by address, lower-cased.
			email := strings.ToLower(strings.TrimSpace(inv.Email))
			w.object(f.sub, func(g *field) { w.str(email) })
		}
	})
}

func (w *writer) roleBinding(p plan, rb *invite.RoleBinding) {
	w.object(p, func(f *field) {
		switch f.kind {
		case kRoleName:
			w.str(rb.RoleName)
		case kScope:
			if rb.Scope == nil {
				w.null()
				return
			}
			w.object(f.sub, func(g *field) {
				switch g.kind {
				case kResourceType:
					rb.Scope.ResourceType.MarshalGQL(&w.buf)
				case kResourceID:
					w.str(rb.Scope.ResourceID)
				}
			})
		}
	})
}

func (w *writer) check(err error) {
	if err != nil {
		w.failed = true
	}
}
