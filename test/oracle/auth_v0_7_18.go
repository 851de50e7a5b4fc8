//go:build aas_auth_v0_7_18

// aws-iam-authenticator v0.7.18: saveMap keys roles by RoleMapping.Key() (lower-cased rolearn,
// or the lower-cased SSO pattern) and users by UserMapping.Key() (the userarn AS WRITTEN), and
// MapStore.RoleMapping / UserMapping range over the store's Go map returning the first entry
// whose Matches (strings.EqualFold) accepts the lower-cased canonical ARN — so when several
// entries match, which one answers depends on Go's randomised map iteration order.
//
// The SSORoleMatch feature gate stays at its default, off (as on EKS, where it cannot be set):
// an `sso:` entry is stored under its pattern but RoleMapping.Matches never accepts anything.
package main

import (
	"strings"
	"unicode"

	"sigs.k8s.io/aws-iam-authenticator/pkg/config"
	"sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap"
)

const authVersion = "v0.7.18"

func init() {
	if config.SSORoleMatchEnabled {
		panic("oracle: SSORoleMatch must stay off (its default, and EKS's)")
	}
}

// foldRune: strings.EqualFold equates runes of one unicode.SimpleFold orbit; a stored rune can
// equal an ASCII probe rune iff its orbit holds an ASCII rune (K→k for U+212A KELVIN SIGN,
// ſ→s for U+017F LATIN SMALL LETTER LONG S, and ASCII letters themselves).
func foldRune(r rune) (rune, bool) {
	if r < 0x80 {
		return unicode.ToLower(r), true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < 0x80 {
			return unicode.ToLower(f), true
		}
	}
	return 0, false
}

// roleCandidates: every stored role the real RoleMapping.Matches accepts (what the real
// MapStore.RoleMapping loop would return, in some order).
func roleCandidates(ms *configmap.MapStore, lowerARN string) []mapping {
	var out []mapping
	for _, r := range storeRoles(ms) {
		if r.Matches(lowerARN) {
			arn := r.RoleARN
			if arn == "" {
				arn = r.Key()
			}
			out = append(out, mapping{From: "mapRoles", ARN: arn, Username: r.Username, Groups: r.Groups})
		}
	}
	return out
}

func userCandidates(ms *configmap.MapStore, lowerARN string) []mapping {
	var out []mapping
	for _, u := range storeUsers(ms) {
		if u.Matches(lowerARN) {
			out = append(out, mapping{From: "mapUsers", ARN: u.UserARN, Username: u.Username, Groups: u.Groups})
		}
	}
	return out
}

func roleEntry(key string, r config.RoleMapping) storedEntry {
	e := storedEntry{Key: key, ARN: r.RoleARN, Username: r.Username, Groups: r.Groups}
	if r.SSO != nil {
		e.SSO = r.SSO
	}
	return e
}

// ssoSuffix stands for the random 16-hex suffix IAM Identity Center gives its roles.
const ssoSuffix = "0123456789abcdef"

// roleProbeSource: the rolearn as written (Matches compares it, not the key), or for an SSO
// entry its pattern with the wildcard filled in as an SSO role name would fill it.
func roleProbeSource(key string, r config.RoleMapping) string {
	if r.RoleARN != "" {
		return r.RoleARN
	}
	return strings.Replace(key, "*", ssoSuffix, 1)
}
