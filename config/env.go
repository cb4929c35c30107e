package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	envparse "github.com/caarlos0/env/v11"
)

// Prefix starts every variable's name.
const Prefix = "INVITEGW_"

// sections are the parts of a Config read with one prefix each (a field name is unique
// within one, which is how a parse error finds its variable).
func sections(c *Config) []struct {
	prefix string
	v      any
} {
	return []struct {
		prefix string
		v      any
	}{
		{Prefix, c}, {Prefix, &c.Cache},
		{Prefix + "REDPANDA_", &c.Redpanda}, {Prefix + "ELASTIC_", &c.Elastic}, {Prefix + "FRONTIER_", &c.Frontier},
		{Prefix + "JWT_", &c.JWT},
	}
}

// Variables lists every environment variable the configuration reads, in field order.
func Variables() []string {
	var names []string
	for _, s := range sections(&Config{}) {
		for _, f := range fields(s.v) {
			names = append(names, s.prefix+f.key)
		}
	}
	return names
}

// field is a tagged field of a section: its Go name and its variable without the prefix.
type field struct{ name, key string }

func fields(v any) []field {
	var out []field
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("env"), ",")
		if key != "" && key != "-" {
			out = append(out, field{t.Field(i).Name, key})
		}
	}
	return out
}

// parseEnv fills c from the environment, with the tags' defaults, with github.com/caarlos0/env:
// one tagged struct instead of a parser per variable. Its errors are rewritten to name the
// variable and say what it must look like.
func parseEnv(c *Config, getenv func(string) string) error {
	environ := map[string]string{}
	for _, k := range Variables() {
		if v := getenv(k); v != "" {
			environ[k] = v
		}
	}
	var errs []error
	for _, s := range sections(c) {
		err := envparse.ParseWithOptions(s.v, envparse.Options{Prefix: s.prefix, Environment: environ, FuncMap: parsers})
		var agg envparse.AggregateError
		if !errors.As(err, &agg) {
			if err != nil {
				errs = append(errs, fmt.Errorf("config: %w", err))
			}
			continue
		}
		for _, e := range agg.Errors {
			var pe envparse.ParseError
			if !errors.As(e, &pe) {
				errs = append(errs, fmt.Errorf("config: %w", e))
				continue
			}
			for _, f := range fields(s.v) {
				if f.name == pe.Name {
					errs = append(errs, fmt.Errorf("config: %s%s %w", s.prefix, f.key, pe.Err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// parsers read the types whose standard parsing would accept too much or explain too little.
var parsers = map[reflect.Type]envparse.ParserFunc{
	reflect.TypeOf(time.Duration(0)): func(v string) (any, error) {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("must be a duration like 30s or 5m, got %q", v)
		}
		return d, nil
	},
	reflect.TypeOf(false): func(v string) (any, error) {
		switch v {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("must be true or false, got %q", v)
	},
	reflect.TypeOf(0.0): func(v string) (any, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a number, got %q", v)
		}
		return f, nil
	},
	reflect.TypeOf(0): func(v string) (any, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number, got %q", v)
		}
		return n, nil
	},
	reflect.TypeOf(Off(false)): func(v string) (any, error) {
		switch v {
		case "on":
			return Off(false), nil
		case "off":
			return Off(true), nil
		}
		return nil, fmt.Errorf("must be on or off, got %q", v)
	},
	reflect.TypeOf(List(nil)): func(v string) (any, error) { return list(v), nil },
	reflect.TypeOf(Toggle(0)): func(v string) (any, error) {
		switch v {
		case "true", "1":
			return toggleOn, nil
		case "false", "0":
			return toggleOff, nil
		}
		return nil, fmt.Errorf("must be true or false, got %q", v)
	},
}

// Toggle is a switch that may be left unset, to follow another setting.
type Toggle int8

const (
	toggleUnset Toggle = iota
	toggleOn
	toggleOff
)

// Or is the toggle's value, or def when it was not set.
func (t Toggle) Or(def bool) bool {
	if t == toggleUnset {
		return def
	}
	return t == toggleOn
}

// Off is a switch read as on or off, true when off.
type Off bool

// List is a comma-separated list, trimmed, without blanks or duplicates.
type List []string
