package main

// Tests of the oracle, run against one authenticator version at a time (the build tag picks it):
// bash test/oracle/go-test.sh runs them for v0.6.13 and v0.7.18.
//
//   - TestFacts: every case of facts.json, evaluated in process, must give what was recorded for
//     this version (a partial match: what the case pins). These are the facts of README.md's
//     table, checked against the authenticator's own code each run.
//   - TestAmbiguityIsMapOrder: where a fact says "ambiguous", the real Map over freshly built
//     real stores must actually return each listed outcome and nothing else (Go randomises map
//     iteration per range loop, so a few hundred tries see every entry first); where it says
//     "mapped", every try must agree. This checks the oracle's deterministic claim against the
//     real, nondeterministic code.
//   - protocol, panic, timeout and long-line handling.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap"
	"sigs.k8s.io/aws-iam-authenticator/pkg/token"
)

type fact struct {
	Name   string                    `json:"name"`
	Note   string                    `json:"note"`
	Data   map[string]string         `json:"data"`
	Probes []string                  `json:"probes"`
	Expect map[string]map[string]any `json:"expect"`
}

func loadFacts(t *testing.T) []fact {
	t.Helper()
	b, err := os.ReadFile("facts.json")
	if err != nil {
		t.Fatalf("read facts.json: %v", err)
	}
	var fs []fact
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatalf("parse facts.json: %v", err)
	}
	if len(fs) < 30 {
		t.Fatalf("facts.json has %d cases, want at least 30", len(fs))
	}
	return fs
}

// partial reports where got differs from want: objects need want's keys (recursively), arrays
// and scalars must be equal.
func partial(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, js(got))}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing (want %s)", path, k, js(wv)))
				continue
			}
			out = append(out, partial(path+"."+k, wv, gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, js(want), js(got))}
		}
		var out []string
		for i := range w {
			out = append(out, partial(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, js(want), js(got))}
		}
		return nil
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func TestFacts(t *testing.T) {
	for _, f := range loadFacts(t) {
		t.Run(f.Name, func(t *testing.T) {
			want, ok := f.Expect[authVersion]
			if !ok {
				t.Fatalf("no expectation for %s", authVersion)
			}
			got := asJSONValue(t, evaluate(request{ID: json.RawMessage(js(f.Name)), Data: f.Data, Probes: f.Probes}))
			if diffs := partial("$", want, got); len(diffs) > 0 {
				t.Errorf("%s\nactual: %s", strings.Join(diffs, "\n"), js(got))
			}
		})
	}
}

// outcome is what the real Map returned, or "-" for not mapped.
func outcome(data map[string]string, probe string) string {
	ms, _ := newStore(data)
	m := &configmap.ConfigMapMapper{MapStore: ms}
	got, err := m.Map(&token.Identity{CanonicalARN: probe, AccountID: accountOf(probe)})
	if err != nil {
		return "-"
	}
	return js([]any{got.Username, groupsOut(got.Groups)})
}

func TestAmbiguityIsMapOrder(t *testing.T) {
	checked := 0
	for _, f := range loadFacts(t) {
		idents, _ := f.Expect[authVersion]["identities"].(map[string]any)
		for probe, a := range idents {
			ans, _ := a.(map[string]any)
			var want []string
			switch {
			case ans["ambiguous"] != nil:
				for _, c := range ans["ambiguous"].([]any) {
					c := c.(map[string]any)
					want = append(want, js([]any{c["username"], c["groups"]}))
				}
			case ans["mapped"] == true:
				want = []string{js([]any{ans["username"], ans["groups"]})}
			default:
				continue
			}
			sort.Strings(want)
			seen := map[string]bool{}
			for i := 0; i < 400; i++ {
				seen[outcome(f.Data, probe)] = true
			}
			var got []string
			for o := range seen {
				got = append(got, o)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s: the real Map returned %v over 400 fresh stores, the fact says %v", f.Name, probe, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no mapped or ambiguous identity in facts.json")
	}
}

func TestProtocol(t *testing.T) {
	in := strings.Join([]string{
		`{"id": 1, "data": {"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/a\n  username: u\n"}, "probes": ["arn:aws:iam::111122223333:role/a"]}`,
		``,
		`not json`,
		`{"id": {"k": [1]}, "data": {}, "extra": true}`,
		`{"id": "last", "data": {"mapRoles": 1}}`,
		`{"data": null}`,
	}, "\n") // no final newline: the last line still counts
	var out bytes.Buffer
	if err := serve(strings.NewReader(in), &out, time.Second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 answers, got %d:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], `"arn:aws:iam::111122223333:role/a":{"mapped":true,"from":"mapRoles","arn":"arn:aws:iam::111122223333:role/a","username":"u","groups":[]}`) {
		t.Errorf("line 1: %s", lines[0])
	}
	wantErr := []struct{ id, msg string }{
		{`null`, "bad request line: EOF"},
		{`null`, "bad request line: invalid character 'o' in literal null (expecting 'u')"},
		{`{"k":[1]}`, `bad request line: json: unknown field "extra"`},
		{`"last"`, "bad request line: json: cannot unmarshal number into Go struct field request.data of type string"},
	}
	for i, w := range wantErr {
		var f failure
		if err := json.Unmarshal([]byte(lines[i+1]), &f); err != nil {
			t.Fatal(err)
		}
		if string(f.ID) != w.id || f.Error == nil || *f.Error != w.msg || f.Version != authVersion {
			t.Errorf("line %d: want id %s error %q, got %s", i+2, w.id, w.msg, lines[i+1])
		}
	}
	if !strings.Contains(lines[5], `"id":null`) || !strings.Contains(lines[5], `"identities":{}`) {
		t.Errorf("line 6 (data null): %s", lines[5])
	}
}

func TestPanicBecomesAnAnswer(t *testing.T) {
	r := handle([]byte(`{"id": "p", "data": {}}`), time.Second, func(request) reply { panic("boom") })
	f, ok := r.(failure)
	if !ok || f.Panic == nil || !strings.HasPrefix(*f.Panic, "boom\n") || string(f.ID) != `"p"` {
		t.Fatalf("got %s", js(r))
	}
}

func TestTimeoutBecomesAnAnswer(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	r := handle([]byte(`{"id": "t", "data": {}}`), 20*time.Millisecond, func(req request) reply {
		<-release
		return evaluate(req)
	})
	f, ok := r.(failure)
	if !ok || !f.Timeout || string(f.ID) != `"t"` {
		t.Fatalf("got %s", js(r))
	}
}

func TestLongLineIsRefusedAndSkipped(t *testing.T) {
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 100
	in := `{"id": "big", "data": {"mapRoles": "` + strings.Repeat("x", 5000) + `"}}` + "\n" + `{"id": "next", "data": {}}` + "\n"
	var out bytes.Buffer
	if err := serve(strings.NewReader(in), &out, time.Second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"error":"request line longer than 100 bytes"`) || !strings.Contains(lines[1], `"id":"next"`) {
		t.Fatalf("got:\n%s", out.String())
	}
}
