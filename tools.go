//go:build tools

// Package main pins the code generator's version in go.mod, so
// `go run github.com/99designs/gqlgen generate` always runs the version the generated code expects.
package main

import _ "github.com/99designs/gqlgen"
