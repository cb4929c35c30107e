package invite

// IsEntity marks Organization as an Apollo Federation entity (@key(fields: "id")). gqlgen's
// federation runtime binds entity types through this marker interface; it has no behaviour.
func (Organization) IsEntity() {}
