package rules

import "time"

// maxSampleTries bounds the enum combinations Sample tries to find a
// payload its caller accepts.
const maxSampleTries = 256

// Sample returns a payload that conforms to s: every field (optional ones
// included) with its first enum value, or else a placeholder of its type
// ("sample-<name>" for a string, 1.5 for a number, now for a timestamp;
// objects and arrays with their declared fields). Every top-level field
// with more than one enum value is a dial: when accept is not nil, Sample
// tries the combinations of their values (at most maxSampleTries) until
// accept takes one, and returns the first combination when none is taken.
// Numbers are float64, as encoding/json decodes them, so a filter reads a
// sample as it reads a received event.
func (s *Schema) Sample(now time.Time, accept func(map[string]any) bool) map[string]any {
	var dials []*Field
	combos := 1
	for _, f := range s.Fields {
		if len(f.Enum) > 1 && f.Type != TypeArray && combos*len(f.Enum) <= maxSampleTries {
			dials = append(dials, f)
			combos *= len(f.Enum)
		}
	}
	var first map[string]any
	for i := range combos {
		choice := map[string]any{}
		n := i
		for _, f := range dials {
			choice[f.Name] = f.Enum[n%len(f.Enum)]
			n /= len(f.Enum)
		}
		obj := sampleObject(s.Fields, choice, now)
		if first == nil {
			first = obj
		}
		if accept == nil {
			break
		}
		if accept(obj) {
			return obj
		}
	}
	return first
}

// sampleObject is an object with every field of fields, choice's values
// for the top-level ones it names.
func sampleObject(fields []*Field, choice map[string]any, now time.Time) map[string]any {
	obj := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := choice[f.Name]; ok {
			obj[f.Name] = v
			continue
		}
		obj[f.Name] = sampleValue(f, now)
	}
	return obj
}

// sampleValue is a placeholder for f: its first enum value, else a value
// of its type (objects and arrays with their declared fields).
func sampleValue(f *Field, now time.Time) any {
	if f.Type == TypeArray {
		switch {
		case len(f.Enum) > 0:
			return []any{f.Enum[0]}
		case len(f.Fields) > 0:
			return []any{sampleObject(f.Fields, nil, now)}
		}
		return []any{}
	}
	if len(f.Enum) > 0 {
		return f.Enum[0]
	}
	switch f.Type {
	case TypeString:
		return "sample-" + f.Name
	case TypeNumber:
		return 1.5
	case TypeInteger:
		return float64(1) // numbers decode as float64
	case TypeBoolean:
		return true
	case TypeTimestamp:
		return now.UTC().Format(time.RFC3339)
	case TypeObject:
		return sampleObject(f.Fields, nil, now)
	}
	return "sample"
}
