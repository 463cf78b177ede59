package abi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// objectSchemaBefore is the check objectSchema replaced (the whole schema decoded into maps),
// with numbers kept as text: the maps made float64s, so a number beyond float64's range (valid
// JSON, 1e999) was refused, which objectSchema does not do and nothing needs (schemas go to
// clients as they are, and the validator reads numbers as json.Number). Else the two must
// agree on every input.
func objectSchemaBefore(schema json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || dec.InputOffset() != int64(len(bytes.TrimRight(schema, " \t\r\n"))) {
		return false
	}
	return m["type"] == "object"
}

var schemaProbes = []string{
	`{"type":"object"}`, `{"type":"object","properties":{"a":{"type":"string"}}}`,
	`{"type":"obj\u0065ct"}`, `{"type":"string","type":"object"}`, `{"type":"object","type":"string"}`,
	`{"TYPE":"object"}`, `{"Type":"object"}`, `{"type":["object"]}`, `{"type":null}`, `{"type":1}`,
	`{}`, `null`, `[]`, `"object"`, ``, ` `, `{"type":"object"`, `{"type":"object","properties":{`,
	`{"type":"object"} {}`, `{"type":"object","x":[1,2,}`, `{"type":"object","x":"\ud800"}`,
	` {"type" : "object"} `, `{"type":"object","x":1e999}`,
}

func TestObjectSchema(t *testing.T) {
	want := map[string]bool{`{"type":"object"}`: true, `{"type":"obj\u0065ct"}`: true, `{"TYPE":"object"}`: false, `null`: false}
	for _, s := range schemaProbes {
		got, before := objectSchema(json.RawMessage(s)), objectSchemaBefore(json.RawMessage(s))
		if got != before {
			t.Errorf("objectSchema(%q) = %v, the map decode said %v", s, got, before)
		}
		if w, ok := want[s]; ok && got != w {
			t.Errorf("objectSchema(%q) = %v, want %v", s, got, w)
		}
	}
}

func FuzzObjectSchema(f *testing.F) {
	for _, s := range schemaProbes {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, before := objectSchema(json.RawMessage(s)), objectSchemaBefore(json.RawMessage(s)); got != before {
			t.Errorf("objectSchema(%q) = %v, the map decode said %v", s, got, before)
		}
	})
}
