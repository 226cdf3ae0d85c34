package config

import (
	"bytes"
	"encoding/json"
	"sort"
)

// EnvJSON is the worker's env object as JSON: vars in the order the config
// file lists them (workers see object keys in that order, nested ones too),
// with .dev.vars values laid over them as wrangler does.
func (c *Config) EnvJSON(devVars map[string]string) (string, error) {
	type entry struct {
		key string
		val json.RawMessage
	}
	var entries []entry
	index := map[string]int{}
	add := func(k string, v json.RawMessage) {
		if i, ok := index[k]; ok {
			entries[i].val = v
			return
		}
		index[k] = len(entries)
		entries = append(entries, entry{k, v})
	}
	if ordered, ok := c.orderedVars(); ok {
		for _, kv := range ordered {
			add(kv.key, kv.val)
		}
	} else {
		keys := make([]string, 0, len(c.Vars))
		for k := range c.Vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, err := json.Marshal(c.Vars[k])
			if err != nil {
				return "", &Error{File: c.File, Field: "vars." + k, Msg: "cannot be represented as JSON: " + err.Error()}
			}
			add(k, b)
		}
	}
	devKeys := make([]string, 0, len(devVars))
	for k := range devVars {
		devKeys = append(devKeys, k)
	}
	sort.Strings(devKeys)
	for _, k := range devKeys {
		b, _ := json.Marshal(devVars[k])
		add(k, b)
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(e.key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(e.val)
	}
	out.WriteByte('}')
	return out.String(), nil
}

type rawVar struct {
	key string
	val json.RawMessage
}

// orderedVars reads the vars object again from the JSON(C) source, keeping
// its key order and its values' text. TOML sources report false.
func (c *Config) orderedVars() ([]rawVar, bool) {
	if c.source == nil {
		return nil, false
	}
	clean, err := stripJSONC(bytes.TrimPrefix(c.source, []byte("\xEF\xBB\xBF")))
	if err != nil {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(clean, &top) != nil {
		return nil, false
	}
	raw, ok := top["vars"]
	if !ok {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []rawVar
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		var compact bytes.Buffer
		if json.Compact(&compact, v) != nil {
			return nil, false
		}
		out = append(out, rawVar{key, compact.Bytes()})
	}
	return out, true
}

// keepServicePropsOrder records each service binding's props as written.
func (c *Config) keepServicePropsOrder() {
	clean, err := stripJSONC(bytes.TrimPrefix(c.source, []byte("\xEF\xBB\xBF")))
	if err != nil {
		return
	}
	var top struct {
		Services []struct {
			Props json.RawMessage `json:"props"`
		} `json:"services"`
	}
	if json.Unmarshal(clean, &top) != nil || len(top.Services) != len(c.Services) {
		return
	}
	for i, s := range top.Services {
		if len(s.Props) == 0 || c.Services[i].Props == nil {
			continue
		}
		var compact bytes.Buffer
		if json.Compact(&compact, s.Props) == nil {
			c.Services[i].propsRaw = compact.Bytes()
		}
	}
}
