//go:build aas_auth_v0_6_13

// aws-iam-authenticator v0.6.13: the store is keyed by strings.ToLower(ARN) for users and roles
// alike, and MapStore.RoleMapping / UserMapping are plain map lookups of the lower-cased
// canonical ARN — at most one entry can match, nothing depends on map order. No SSO matcher,
// no Validate.
package main

import (
	"unicode"

	"sigs.k8s.io/aws-iam-authenticator/pkg/config"
	"sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap"
)

const authVersion = "v0.6.13"

// foldRune: v0.6.13 compares ToLower(canonical ARN) with keys saveMap already lower-cased, so a
// stored key rune equals an ASCII probe rune only if it is that (lower-case) ASCII rune.
func foldRune(r rune) (rune, bool) {
	if r < 0x80 && r == unicode.ToLower(r) {
		return r, true
	}
	return 0, false
}

// roleCandidates: the real MapStore.RoleMapping (an exact lookup) is the whole story.
func roleCandidates(ms *configmap.MapStore, lowerARN string) []mapping {
	if r, err := ms.RoleMapping(lowerARN); err == nil {
		return []mapping{{From: "mapRoles", ARN: r.RoleARN, Username: r.Username, Groups: r.Groups}}
	}
	return nil
}

func userCandidates(ms *configmap.MapStore, lowerARN string) []mapping {
	if u, err := ms.UserMapping(lowerARN); err == nil {
		return []mapping{{From: "mapUsers", ARN: u.UserARN, Username: u.Username, Groups: u.Groups}}
	}
	return nil
}

func roleEntry(key string, r config.RoleMapping) storedEntry {
	return storedEntry{Key: key, ARN: r.RoleARN, Username: r.Username, Groups: r.Groups}
}

// roleProbeSource: the stored key is the lower-cased rolearn.
func roleProbeSource(key string, _ config.RoleMapping) string { return key }
