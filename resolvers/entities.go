package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/invitegw/invitegw/invite"
)

// MaxRepresentations bounds one _entities call. A router batches per subgraph fetch; thousands
// of representations in one request are an abuse of the endpoint, not a query plan.
const MaxRepresentations = 1000

// entityKeys are the key field of each entity type this subgraph resolves.
var entityKeys = map[string]string{"Invitation": "id", "Organization": "id", "User": "email"}

// EntityGuard is a field middleware for _entities. gqlgen's generated entity code reports a
// malformed representation as an error of the whole _entities field, before any resolver runs;
// a router needs it per entity. The guard checks each representation first, reports a
// malformed one as BAD_USER_INPUT at _entities[i], and blanks its key, which the entity
// resolvers answer with null.
func EntityGuard(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Name != "_entities" || fc.Object != "Query" {
		return next(ctx)
	}
	reps, _ := fc.Args["representations"].([]map[string]any)
	if len(reps) > MaxRepresentations {
		return nil, &gqlerror.Error{
			Message:    "too many representations: the limit is 1000 per request",
			Path:       fc.Path(),
			Extensions: map[string]any{"code": string(invite.CodeBadUserInput), "reason": "MAX_REPRESENTATIONS"},
		}
	}
	for i, rep := range reps {
		typeName, _ := rep["__typename"].(string)
		key, known := entityKeys[typeName]
		var why string
		switch v, ok := rep[key].(string); {
		case !known:
			why = "unknown __typename " + quote(typeName)
			typeName, key = "User", "email" // resolves to null
		case !ok:
			why = typeName + " representation needs a string " + key
		case strings.TrimSpace(v) == "":
			why = typeName + " representation has an empty " + key
		default:
			continue
		}
		graphql.AddError(ctx, &gqlerror.Error{
			Message:    "invalid representation: " + why,
			Path:       append(fc.Path(), ast.PathIndex(i)),
			Extensions: map[string]any{"code": string(invite.CodeBadUserInput)},
		})
		reps[i] = map[string]any{"__typename": typeName, key: ""}
	}
	return next(ctx)
}

// entityError gives err the path of the representation it belongs to, _entities[i], so a
// router can tell which entity failed. gqlgen passes resolvers only the key value, so the
// index is found among the field's representations.
func entityError(ctx context.Context, typeName, keyField, key string, err error) error {
	if err == nil {
		return nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return err
	}
	reps, _ := fc.Args["representations"].([]map[string]any)
	for i, rep := range reps {
		if rep["__typename"] == typeName && rep[keyField] == key {
			return &gqlerror.Error{Err: err, Message: err.Error(), Path: append(fc.Path(), ast.PathIndex(i))}
		}
	}
	return err
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
