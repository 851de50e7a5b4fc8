// Command aas-oracle answers, for an aws-auth ConfigMap's data, what aws-iam-authenticator's
// EKSConfigMap backend makes of it — by running the authenticator's OWN code, linked at one
// exact version (chosen by a build tag, see auth_v0_*.go; test/stack/build.sh builds one binary
// per version from a throw-away module that requires exactly that version, so the go-yaml,
// sigs.k8s.io/yaml and apimachinery it links are the ones that version pins).
//
// It is the test oracle for the syncer's guards (issue 9): the syncer must judge aws-auth the way
// the authenticator reads it, and only the authenticator's code says how that is.
//
// What runs is the real code path of an aws-auth watch event and of a token review's mapping step:
//
//	configmap.ParseMap(data)                         (real: YAML→JSON→json.Unmarshal[→Validate])
//	(*configmap.MapStore).saveMap(users, roles, accts) (real, unexported; reached by go:linkname)
//	(*configmap.ConfigMapMapper).Map(identity)       (real: RoleMapping, then UserMapping)
//	(*configmap.ConfigMapMapper).IsAccountAllowed(acct) (real)
//
// Only doMapping's few lines in pkg/server (Map; if not mapped, IsAccountAllowed → username =
// the canonical ARN, no groups) are mirrored here, because doMapping is a method of the server's
// unexported handler that needs a running server (STS verifier, EC2 provider) to construct.
// Templates ({{SessionName}} …) are NOT rendered: answers carry the stored username and groups.
//
// Protocol: one JSON object per input line, one JSON line out per input line, in order, flushed
// per line (see README.md next to this file).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/sirupsen/logrus"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/aws-iam-authenticator/pkg/config"
	"sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap"
	"sigs.k8s.io/aws-iam-authenticator/pkg/token"
)

// saveMap is the authenticator's own unexported (*MapStore).saveMap — what its aws-auth watch
// calls with ParseMap's results. It is reached by go:linkname (a "pull" linkname to a non-std
// symbol, which the Go 1.23+ linker allows) rather than re-implemented, because how it keys the
// store (ToLower in v0.6.13; Key() in v0.7.18, raw for users) is one of the facts under test.
//
//go:linkname saveMap sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap.(*MapStore).saveMap
func saveMap(ms *configmap.MapStore, userMappings []config.UserMapping, roleMappings []config.RoleMapping, awsAccounts []string)

// isSkippable is the authenticator's own test for "this key holds nothing": blank, or after
// trimming one of: two backquotes, two double quotes, two single quotes.
//
//go:linkname isSkippable sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap.isSkippable
func isSkippable(data string) bool

// maxLine caps one input line (a ConfigMap is at most 1 MiB; JSON escaping can grow it ~6x).
var maxLine = 16 << 20 // a var so the test can lower it

// request is one input line.
type request struct {
	ID     json.RawMessage   `json:"id"`
	Data   map[string]string `json:"data"`
	Probes []string          `json:"probes"`
}

// keyReport describes what ParseMap made of one of mapRoles / mapUsers, parsed on its own.
type keyReport struct {
	Present        bool     `json:"present"`
	Skippable      bool     `json:"skippable"`
	YAMLError      *string  `json:"yamlError"`
	DecodeError    *string  `json:"decodeError"`
	ValidateErrors []string `json:"validateErrors"`
	// Parsed: mappings ParseMap returned for this key (v0.7.18: after Validate dropped some).
	Parsed int `json:"parsed"`
	// Stored: entries in the real store after saveMap (duplicates collapse on the store key).
	Stored int `json:"stored"`
}

type accountsReport struct {
	Present   bool    `json:"present"`
	Skippable bool    `json:"skippable"`
	Error     *string `json:"error"`
}

type keys struct {
	MapRoles    keyReport      `json:"mapRoles"`
	MapUsers    keyReport      `json:"mapUsers"`
	MapAccounts accountsReport `json:"mapAccounts"`
}

// mapping is one result of the mapping step (unrendered templates).
type mapping struct {
	From     string   `json:"from"`
	ARN      string   `json:"arn"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// answer for one probe; it marshals to exactly one of
//
//	{"mapped": true, "from", "arn", "username", "groups"}   Map's answer
//	{"ambiguous": [mapping, …]}                              Map's answer depends on map order
//	{"account": true, "username", "groups": []}              doMapping's mapAccounts fallback
//	{"mapped": false}
type answer struct {
	kind      string // "mapped", "ambiguous", "account", "none"
	one       mapping
	ambiguous []mapping
}

func (a answer) MarshalJSON() ([]byte, error) {
	switch a.kind {
	case "mapped":
		return json.Marshal(struct {
			Mapped bool `json:"mapped"`
			mapping
		}{true, a.one})
	case "ambiguous":
		return json.Marshal(struct {
			Ambiguous []mapping `json:"ambiguous"`
		}{a.ambiguous})
	case "account":
		return json.Marshal(struct {
			Account  bool     `json:"account"`
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		}{true, a.one.Username, []string{}})
	case "none":
		return []byte(`{"mapped":false}`), nil
	}
	return nil, fmt.Errorf("oracle: answer of kind %q", a.kind)
}

// storedEntry is one entry of the real store, as saveMap left it.
type storedEntry struct {
	Key      string   `json:"key"`
	ARN      string   `json:"arn"`
	SSO      any      `json:"sso,omitempty"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// reply is the answer to one readable request.
type reply struct {
	ID      json.RawMessage `json:"id"`
	Version string          `json:"version"`
	Keys    keys            `json:"keys"`
	// ParseError: ParseMap's error over the whole data (all keys), as the watch logs it.
	ParseError *string                  `json:"parseError"`
	Accounts   []string                 `json:"accounts"`
	Store      map[string][]storedEntry `json:"store"`
	Derived    []string                 `json:"derived"`
	Identities map[string]answer        `json:"identities"`
}

// failure is the answer to a request that could not be answered: exactly one of panic,
// timeout, error is set.
type failure struct {
	ID      json.RawMessage `json:"id"`
	Version string          `json:"version"`
	Panic   *string         `json:"panic,omitempty"`
	Timeout bool            `json:"timeout,omitempty"`
	Error   *string         `json:"error,omitempty"`
}

func strp(s string) *string { return &s }

// unexported reads an unexported struct field of the authenticator (the store's maps, the
// parse error's list): read-only, type-checked, so a layout change fails loudly, not silently.
func unexported[T any](structValue reflect.Value, field string) T {
	f := structValue.FieldByName(field)
	var zero T
	if !f.IsValid() {
		panic(fmt.Sprintf("oracle: %s has no field %q (authenticator changed?)", structValue.Type(), field))
	}
	if f.Type() != reflect.TypeOf(zero) {
		panic(fmt.Sprintf("oracle: %s.%s is %s, not %T (authenticator changed?)", structValue.Type(), field, f.Type(), zero))
	}
	return *(*T)(unsafe.Pointer(f.UnsafeAddr()))
}

// parseErrors lists the errors inside ParseMap's ErrParsingMap (its unexported `errors` field),
// in the order ParseMap appended them.
func parseErrors(err error) []string {
	if err == nil {
		return nil
	}
	var pe configmap.ErrParsingMap
	if !errors.As(err, &pe) {
		return []string{err.Error()}
	}
	v := reflect.New(reflect.TypeOf(pe)).Elem()
	v.Set(reflect.ValueOf(pe))
	var out []string
	for _, e := range unexported[[]error](v, "errors") {
		out = append(out, e.Error())
	}
	return out
}

func storeUsers(ms *configmap.MapStore) map[string]config.UserMapping {
	return unexported[map[string]config.UserMapping](reflect.ValueOf(ms).Elem(), "users")
}

func storeRoles(ms *configmap.MapStore) map[string]config.RoleMapping {
	return unexported[map[string]config.RoleMapping](reflect.ValueOf(ms).Elem(), "roles")
}

func storeAccounts(ms *configmap.MapStore) map[string]interface{} {
	return unexported[map[string]interface{}](reflect.ValueOf(ms).Elem(), "awsAccounts")
}

// newStore is a MapStore as the watch leaves it after one aws-auth event: ParseMap, then saveMap
// with whatever ParseMap returned, errors or not ("Only saving data that was good").
func newStore(data map[string]string) (*configmap.MapStore, []string) {
	users, roles, accounts, err := configmap.ParseMap(data)
	ms := &configmap.MapStore{}
	saveMap(ms, users, roles, accounts)
	return ms, parseErrors(err)
}

// mappingKey reports one of mapRoles / mapUsers parsed alone. The errors are ParseMap's own;
// they are classified by re-running the first two stages exactly as that version's ParseMap does
// (utilyaml.ToJSON, then encoding/json into the version's own mapping type): a ToJSON failure is
// a yamlError, a json.Unmarshal failure a decodeError, and every other error Validate's.
func mappingKey[T any](data map[string]string, key string, count func(*configmap.MapStore) int) keyReport {
	text, present := data[key]
	r := keyReport{Present: present, ValidateErrors: []string{}}
	if !present {
		return r
	}
	r.Skippable = isSkippable(text)
	users, roles, accounts, err := configmap.ParseMap(map[string]string{key: text})
	errs := parseErrors(err)
	if key == "mapRoles" {
		r.Parsed = len(roles)
	} else {
		r.Parsed = len(users)
	}
	ms := &configmap.MapStore{}
	saveMap(ms, users, roles, accounts)
	r.Stored = count(ms)
	if len(errs) == 0 {
		return r
	}
	if r.Skippable {
		panic(fmt.Sprintf("oracle: ParseMap reported errors for a skippable %s: %v", key, errs))
	}
	js, yerr := utilyaml.ToJSON([]byte(text))
	if yerr != nil {
		if errs[0] != yerr.Error() || len(errs) != 1 {
			panic(fmt.Sprintf("oracle: %s: ToJSON said %q but ParseMap %q", key, yerr, errs))
		}
		r.YAMLError = strp(errs[0])
		return r
	}
	var into []T
	if derr := json.Unmarshal(js, &into); derr != nil {
		if errs[0] != derr.Error() {
			panic(fmt.Sprintf("oracle: %s: json.Unmarshal said %q but ParseMap %q", key, derr, errs))
		}
		r.DecodeError = strp(errs[0])
		errs = errs[1:]
	}
	r.ValidateErrors = append(r.ValidateErrors, errs...)
	return r
}

func accountsKey(data map[string]string) accountsReport {
	text, present := data["mapAccounts"]
	r := accountsReport{Present: present}
	if !present {
		return r
	}
	r.Skippable = isSkippable(text)
	_, _, _, err := configmap.ParseMap(map[string]string{"mapAccounts": text})
	if errs := parseErrors(err); len(errs) > 0 {
		r.Error = strp(strings.Join(errs, "; "))
	}
	return r
}

// foldToASCII returns the lower-case ASCII string that s equals under fold (rune by rune), or
// false if some rune of s equals no ASCII rune under it. It derives probes from store keys: an
// ASCII caller ARN can only hit a key whose every rune folds to ASCII.
func foldToASCII(s string, fold func(rune) (rune, bool)) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError {
			return "", false
		}
		a, ok := fold(r)
		if !ok {
			return "", false
		}
		b.WriteRune(unicode.ToLower(a))
	}
	return b.String(), true
}

// derivedProbe turns a folded store key into a probe if some canonical ARN could equal it:
// printable ASCII without spaces, starting with "arn:". (IAM and STS names are ASCII; a key with
// a space, a control character or a non-ASCII rune that folds to nothing ASCII can only match
// an ARN no caller has — such keys still show in "store".)
func derivedProbe(folded string) (string, bool) {
	if !strings.HasPrefix(folded, "arn:") {
		return "", false
	}
	for i := 0; i < len(folded); i++ {
		if folded[i] <= ' ' || folded[i] > '~' {
			return "", false
		}
	}
	return folded, true
}

// accountOf is the account field of an ARN (token.Identity.AccountID; STS answers it alongside
// the ARN), "" when the probe is not shaped like an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// lookup answers one probe. The real Map decides; the candidate list (every stored entry the
// version's own comparison accepts, roles first as Map checks them) shows whether Map's choice
// depends on map iteration order.
func lookup(m *configmap.ConfigMapMapper, probe string) answer {
	id := &token.Identity{ARN: probe, CanonicalARN: probe, AccountID: accountOf(probe)}
	got, err := m.Map(id)
	lower := strings.ToLower(probe)
	cands := roleCandidates(m.MapStore, lower)
	if len(cands) == 0 {
		cands = userCandidates(m.MapStore, lower)
	}
	if err != nil {
		if len(cands) != 0 {
			panic(fmt.Sprintf("oracle: Map(%q) found nothing but %d stored entries match", probe, len(cands)))
		}
		if m.IsAccountAllowed(id.AccountID) {
			// doMapping: username = identity.CanonicalARN (not lower-cased), groups = [].
			return answer{kind: "account", one: mapping{Username: probe}}
		}
		return answer{kind: "none"}
	}
	// Distinct outcomes among the candidates (in a fixed order: the store is a Go map); Map's
	// own must be one of them.
	sort.SliceStable(cands, func(i, j int) bool { return lessMapping(cands[i], cands[j]) })
	var distinct []mapping
	seen := map[string]bool{}
	found := false
	for _, c := range cands {
		if c.Username == got.Username && reflect.DeepEqual(c.Groups, got.Groups) {
			found = true
		}
		k, _ := json.Marshal([]any{c.Username, groupsOut(c.Groups)})
		if !seen[string(k)] {
			seen[string(k)] = true
			distinct = append(distinct, c)
		}
	}
	if !found {
		panic(fmt.Sprintf("oracle: Map(%q) = %q %q, not among the %d matching stored entries", probe, got.Username, got.Groups, len(cands)))
	}
	for i := range distinct {
		distinct[i].Groups = groupsOut(distinct[i].Groups)
	}
	if len(distinct) > 1 {
		return answer{kind: "ambiguous", ambiguous: distinct}
	}
	// One outcome: Map's own username and groups, with the (first) matching entry's ARN.
	one := distinct[0]
	return answer{kind: "mapped", one: mapping{From: one.From, ARN: one.ARN, Username: got.Username, Groups: groupsOut(got.Groups)}}
}

func lessMapping(a, b mapping) bool {
	if a.ARN != b.ARN {
		return a.ARN < b.ARN
	}
	if a.Username != b.Username {
		return a.Username < b.Username
	}
	return strings.Join(a.Groups, "\x00") < strings.Join(b.Groups, "\x00")
}

// groupsOut: renderTemplates builds groups by appending to []string{}, so an absent or null
// `groups` reaches Kubernetes as no groups; say [] rather than null.
func groupsOut(g []string) []string {
	if g == nil {
		return []string{}
	}
	return append([]string{}, g...)
}

// evaluate answers one request (no panic/timeout handling; see handle).
func evaluate(req request) reply {
	data := req.Data
	if data == nil {
		data = map[string]string{}
	}
	out := reply{ID: req.ID, Version: authVersion}
	out.Keys = keys{
		MapRoles:    mappingKey[config.RoleMapping](data, "mapRoles", func(ms *configmap.MapStore) int { return len(storeRoles(ms)) }),
		MapUsers:    mappingKey[config.UserMapping](data, "mapUsers", func(ms *configmap.MapStore) int { return len(storeUsers(ms)) }),
		MapAccounts: accountsKey(data),
	}

	ms, errs := newStore(data)
	if len(errs) > 0 {
		out.ParseError = strp(strings.Join(errs, "; "))
	}
	out.Accounts = []string{}
	for a := range storeAccounts(ms) {
		out.Accounts = append(out.Accounts, a)
	}
	sort.Strings(out.Accounts)

	out.Store = map[string][]storedEntry{"roles": {}, "users": {}}
	derived := map[string]bool{}
	for k, r := range storeRoles(ms) {
		out.Store["roles"] = append(out.Store["roles"], roleEntry(k, r))
		if f, ok := foldToASCII(roleProbeSource(k, r), foldRune); ok {
			if p, ok := derivedProbe(f); ok {
				derived[p] = true
			}
		}
	}
	for k, u := range storeUsers(ms) {
		out.Store["users"] = append(out.Store["users"], storedEntry{Key: k, ARN: u.UserARN, Username: u.Username, Groups: u.Groups})
		if f, ok := foldToASCII(k, foldRune); ok {
			if p, ok := derivedProbe(f); ok {
				derived[p] = true
			}
		}
	}
	for _, l := range out.Store {
		sort.Slice(l, func(i, j int) bool { return l[i].Key < l[j].Key })
	}

	out.Derived = []string{}
	for p := range derived {
		out.Derived = append(out.Derived, p)
	}
	sort.Strings(out.Derived)

	m := &configmap.ConfigMapMapper{MapStore: ms}
	out.Identities = map[string]answer{}
	for _, p := range req.Probes {
		out.Identities[p] = lookup(m, p)
	}
	for _, p := range out.Derived {
		if _, done := out.Identities[p]; !done {
			out.Identities[p] = lookup(m, p)
		}
	}
	return out
}

// handle answers one input line, never crashing: a panic in the authenticator's code (or a
// consistency check here) becomes {"panic": …}; a case still running after `timeout` becomes
// {"timeout": true} (its goroutine cannot be stopped and runs on; go-yaml's own limits —
// alias budget, depth 10000 — keep real inputs far from that).
func handle(line []byte, timeout time.Duration, eval func(request) reply) any {
	var idOnly struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(line, &idOnly)
	fail := failure{ID: idOnly.ID, Version: authVersion}
	var req request
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail.Error = strp("bad request line: " + err.Error())
		return fail
	}
	done := make(chan any, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				f := fail
				f.Panic = strp(fmt.Sprintf("%v\n%s", p, debug.Stack()))
				done <- f
			}
		}()
		done <- eval(req)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r
	case <-t.C:
		fail.Timeout = true
		return fail
	}
}

// readLine reads one line (without its newline) of at most maxLine bytes; a longer line is
// consumed and reported as too long.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, e := r.ReadLine()
		if e != nil {
			return line, tooLong, e
		}
		if !tooLong {
			if len(line)+len(chunk) > maxLine {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if !isPrefix {
			return line, tooLong, nil
		}
	}
}

func serve(in io.Reader, out io.Writer, timeout time.Duration) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		line, tooLong, err := readLine(r)
		if err == io.EOF && len(line) == 0 && !tooLong {
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		var rep any
		if tooLong {
			rep = failure{Version: authVersion, Error: strp(fmt.Sprintf("request line longer than %d bytes", maxLine))}
		} else {
			rep = handle(line, timeout, evaluate)
		}
		if e := enc.Encode(rep); e != nil {
			return e
		}
		if e := w.Flush(); e != nil {
			return e
		}
		if err == io.EOF {
			return nil
		}
	}
}

func init() {
	// ParseMap logs every parse problem through logrus; stdout carries only answers, and the
	// warnings would only repeat what the answers say.
	logrus.SetOutput(io.Discard)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println(authVersion)
		return
	}
	timeout := 5 * time.Second
	if v := os.Getenv("AAS_ORACLE_CASE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "aas-oracle: AAS_ORACLE_CASE_TIMEOUT=%q is not a positive Go duration (e.g. 5s)\n", v)
			os.Exit(2)
		}
		timeout = d
	}
	if err := serve(os.Stdin, os.Stdout, timeout); err != nil {
		fmt.Fprintf(os.Stderr, "aas-oracle: %v\n", err)
		os.Exit(1)
	}
}
