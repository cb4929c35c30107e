package loaders

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
)

func ptr[T any](v T) *T { return &v }

// joinedAs is inv as Join leaves it once its lookups have answered these values and errors.
func joinedAs(inv invite.Invitation, at time.Time, org *invite.Organization, orgErr error,
	roles []*invite.RoleBinding, rolesErr error, groups []*invite.Group, groupsErr error) *Invitation {
	j := &Invitation{Invitation: inv, at: at}
	j.org.set(org, orgErr)
	j.roles.set(roles, rolesErr)
	j.groups.set(groups, groupsErr)
	return j
}

func TestJoinedFields(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	org := &invite.Organization{Provider: invite.Frontier, OrgID: "o1", Name: "Acme"}
	roles := []*invite.RoleBinding{{RoleName: "viewer"}}
	groups := []*invite.Group{{ID: "g1", Name: "ops"}}
	down := errors.New("upstream down")
	frontier := invite.Invitation{Provider: invite.Frontier, OrgID: "o1", RoleIDs: []string{"r1"}, GroupIDs: []string{"g1"}, ExpiresAt: ptr(t0.Add(time.Hour))}
	elastic := &Invitation{Invitation: invite.Invitation{Provider: invite.Elastic, Bindings: []invite.RoleBinding{{RoleName: "admin"}}}, at: t0}
	before := frontier

	j := joinedAs(frontier, t0.Add(time.Hour), org, nil, roles, nil, groups, nil)
	if s, err := j.Status(); s != invite.StatusExpired || err != nil || !reflect.DeepEqual(frontier, before) {
		t.Fatalf("status at the joined time = %s, %v (want EXPIRED); the original must stay unjoined", s, err)
	}
	if got, err := j.Organization(); got != org || err != nil {
		t.Errorf("Organization() = %v, %v", got, err)
	}
	if got, err := j.RoleBindings(); !reflect.DeepEqual(got, roles) || err != nil {
		t.Errorf("RoleBindings() = %v, %v", got, err)
	}
	if got, err := j.Groups(); !reflect.DeepEqual(got, groups) || err != nil {
		t.Errorf("Groups() = %v, %v", got, err)
	}
	failed := joinedAs(frontier, t0, nil, down, nil, down, nil, down)
	if _, err := failed.Organization(); err != down {
		t.Errorf("Organization() error = %v, want the lookup's", err)
	}
	if _, err := failed.RoleBindings(); err != down {
		t.Errorf("RoleBindings() error = %v, want the lookup's", err)
	}

	// Bindings a provider sent need no lookup; a Frontier invitation's names do.
	if got, err := elastic.RoleBindings(); len(got) != 1 || got[0].RoleName != "admin" || err != nil {
		t.Errorf("Elastic RoleBindings() = %v, %v", got, err)
	}
	if got, err := elastic.Groups(); len(got) != 0 || got == nil || err != nil {
		t.Errorf("Elastic Groups() = %v, %v, want empty", got, err)
	}
	unjoined := &Invitation{Invitation: frontier}
	for name, f := range map[string]func() error{
		"Status":       func() error { _, err := unjoined.Status(); return err },
		"Organization": func() error { _, err := unjoined.Organization(); return err },
		"RoleBindings": func() error { _, err := unjoined.RoleBindings(); return err },
		"Groups":       func() error { _, err := unjoined.Groups(); return err },
	} {
		var ie *invite.Error
		if err := f(); !errors.Is(err, errNotJoined) || !errors.As(err, &ie) || ie.Code != invite.CodeInternal {
			t.Errorf("%s() without a join: %v, want the internal not-joined error", name, err)
		}
	}
}

// Select knows the joinable fields by their schema names and nothing else.
func TestSelectNamesJoinableFields(t *testing.T) {
	var js Joins
	for _, f := range []string{"id", "status", "organization", "groups", "user"} {
		js.Select(f)
	}
	for i, want := range []bool{true, false, true} {
		if js.has(i) != want {
			t.Errorf("%s selected = %v, want %v", joinable[i].field, js.has(i), want)
		}
	}
}
